/**
 * Every CLI command, one module each. A module exports `register(program, io)`
 * that declares options and lazily imports its implementation in the action.
 */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { register as apply } from './apply.js';
import { register as canary } from './canary.js';
import { register as exportCmd } from './export.js';
import { register as flip } from './flip.js';
import { register as history } from './history.js';
import { register as init } from './init.js';
import { register as loadtest } from './loadtest.js';
import { register as plan } from './plan.js';
import { register as replay } from './replay.js';
import { register as report } from './report.js';
import { register as routes } from './routes.js';
import { register as seed } from './seed.js';
import { register as serve } from './serve.js';
import { register as shadow } from './shadow.js';

export type RegisterCommand = (program: Command, io: CliIO) => void;

export const COMMANDS: RegisterCommand[] = [
  init,
  serve,
  seed,
  apply,
  routes,
  flip,
  history,
  loadtest,
  report,
  canary,
  exportCmd,
  plan,
  shadow,
  replay,
];
