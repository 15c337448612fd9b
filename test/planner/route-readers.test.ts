/**
 * The route readers of planner/route-readers/ (and Flask's methods as a set),
 * each on a fixture written the way the real code base it is modelled on
 * writes its routes (test/fixtures/planner/frameworks/README.md). Issue 31:
 * mailman's REST API, nova's route table, Buildbot's endpoints gave 0
 * routes, and trytond's `methods={'GET'}` was dropped, so `DELETE
 * /db/data/x` matched a GET route.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { routePathRegExp } from '../../planner/entry-points.js';
import { readModuleFacts } from '../../planner/python-facts.js';
import { scanPythonSource } from '../../planner/python-imports.js';
import { templateToRoutePath } from '../../planner/route-readers/context.js';

const DIR = path.resolve(import.meta.dirname, '../fixtures/planner/frameworks');

/** `framework METHODS /path <handler>` per route the file declares. */
function routesOf(file: string): string[] {
  const src = readFileSync(path.join(DIR, file), 'utf8');
  return readModuleFacts(src, scanPythonSource(src).strings).routes.map(
    (r) => `${r.framework} ${r.methods ? `${r.methods.join(',')} ` : ''}${r.path}${r.on ? ` <${r.on}>` : ''}`,
  );
}

describe('route readers, per framework', () => {
  it('Falcon: add_route with {params}, add_sink as a prefix; not in comments or docstrings', () => {
    expect(routesOf('falcon_app.py')).toEqual([
      'falcon /lists <lists.AllLists>',
      'falcon /lists/:list_id/config <lists.ListConfig>',
      'falcon /static/*',
    ]);
  });

  it('Pyramid: add_route by position or keyword, request_method, *traverse', () => {
    expect(routesOf('pyramid_app.py')).toEqual([
      'pyramid /',
      'pyramid GET /wiki/:pagename',
      'pyramid /wiki/:pagename/edit_page',
      'pyramid /files/*',
    ]);
  });

  it('aiohttp: router.add_get, add_route(METHOD, ...), web.get/web.delete tables', () => {
    expect(routesOf('aiohttp_app.py')).toEqual([
      'aiohttp GET /orders <handlers.list_orders>',
      'aiohttp POST /orders/:id/pay <handlers.pay>',
      'aiohttp GET /health <health>',
      'aiohttp DELETE /orders/:id <handlers.cancel>',
    ]);
  });

  it('Tornado: the Application handler table, regex groups cut to *', () => {
    expect(routesOf('tornado_app.py')).toEqual([
      'tornado / <handlers.MainHandler>',
      'tornado /rooms/* <handlers.RoomHandler>',
      'tornado /auth/login <handlers.LoginHandler>',
    ]);
  });

  it('FastAPI/Starlette: decorators (read with the Flask form), Route with methods, Mount', () => {
    expect(routesOf('starlette_app.py')).toEqual([
      'flask GET /{item_id} <router>',
      'flask POST /login <app>',
      'starlette GET,PUT /users/:user_id <user>',
      'starlette /static/*',
    ]);
  });

  it("routes.Mapper and nova's ROUTE_LIST: connect with conditions, resource, verbs per path; no format strings", () => {
    expect(routesOf('routes_mapper.py')).toEqual([
      'routes GET /svrlist <servers.Controller>',
      'routes /v1.0/* <BlogApp>',
      'routes /servers',
      'routes /servers/:id',
      'routes GET,POST /flavors <flavor_controller>',
      'routes GET,DELETE /flavors/:id <flavor_controller>',
    ]);
  });

  it("Twisted: root.putChild mounts; '' is the index page, never a catch-all; self.putChild left out", () => {
    expect(routesOf('twisted_app.py')).toEqual([
      'twisted / <IndexResource>',
      'twisted /api <rest.RestRootResource>',
      'twisted /api/* <rest.RestRootResource>',
      'twisted /ws <WsResource>',
      'twisted /ws/* <WsResource>',
    ]);
  });

  it('Buildbot: pathPatterns with typed variables, under /api/v2', () => {
    expect(routesOf('buildbot_endpoints.py')).toEqual([
      'buildbot /api/v2/builders/:builderid',
      'buildbot /api/v2/masters/:masterid/builders/:buildername',
      'buildbot /api/v2/builders',
    ]);
  });

  it('werkzeug: Map([Rule(...)]) with converters and methods', () => {
    expect(routesOf('werkzeug_app.py')).toEqual([
      'werkzeug /',
      'werkzeug GET,DELETE /db/:database_name/data/:model',
      'werkzeug /files/*',
    ]);
  });

  it("trytond's methods={'GET'} (a set), methods=(...) (a tuple) and methods on the next line are read", () => {
    expect(routesOf('trytond_routes.py')).toEqual([
      'flask GET /<database_name>/data/<model> <app>',
      'flask POST,DELETE /<database_name>/user/application/ <app>',
      'flask GET,POST /<database_name>/ir/html/<model>/<int:record>/<field> <app>',
    ]);
  });

  it('templates: {x}, <conv:x>, {x:regex}, dots kept literal', () => {
    expect(templateToRoutePath('/3.1/lists/{list_id}')).toBe('/3.1/lists/:list_id');
    expect(templateToRoutePath('/a/<int:id>/b')).toBe('/a/:id/b');
    expect(templateToRoutePath('/v1.0/{path_info:.*}')).toBe('/v1.0/*');
    expect(routePathRegExp('/3.1/lists/:id').test('/3.1/lists/ant.example.com')).toBe(true);
  });
});
