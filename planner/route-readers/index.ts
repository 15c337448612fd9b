/**
 * The route readers beyond Django and Flask (python-facts.ts reads those):
 * one file per framework spelling. `ROUTE_READERS` is the list the planner
 * runs, and its names are what a reason prints when none found a route.
 */
import type { RouteReader } from './context.js';
import { aiohttpReader } from './aiohttp.js';
import { buildbotReader } from './buildbot.js';
import { falconReader } from './falcon.js';
import { pyramidReader } from './pyramid.js';
import { routesMapperReader } from './routes-mapper.js';
import { starletteReader } from './starlette.js';
import { tornadoReader } from './tornado.js';
import { twistedReader } from './twisted.js';
import { werkzeugReader } from './werkzeug.js';

export type { RouteFact, RouteReader } from './context.js';
export { type ChildFact, readChildren } from './object-tree.js';

export const ROUTE_READERS: readonly RouteReader[] = [
  falconReader,
  pyramidReader,
  aiohttpReader,
  tornadoReader,
  starletteReader,
  routesMapperReader,
  twistedReader,
  buildbotReader,
  werkzeugReader,
];

/** Every reader's name, Django's and Flask's first: what "no entry point" reasons list. */
export const READER_NAMES: readonly string[] = [
  'Django URLconf',
  'Flask/FastAPI decorators',
  ...ROUTE_READERS.map((r) => r.name),
  'object-routed @child trees',
  'config routes with module:',
];
