/**
 * Every CLI command, one module each. A module exports `register(program, io)`
 * that declares options and lazily imports its implementation in the action.
 */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';

export type RegisterCommand = (program: Command, io: CliIO) => void;

export const COMMANDS: RegisterCommand[] = [];
