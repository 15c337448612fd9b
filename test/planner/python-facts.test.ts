/** What one file says about tables and entry points (planner/python-facts.ts), read from real source text. */
import { describe, expect, it } from 'vitest';
import { readModuleFacts } from '../../planner/python-facts.js';
import { scanPythonSource } from '../../planner/python-imports.js';
import { toRoutePath } from '../../planner/entry-points.js';

const facts = (src: string) => readModuleFacts(src, scanPythonSource(src).strings);

describe('tables', () => {
  it('reads Django Meta options and SQLAlchemy table names', () => {
    const f = facts(
      [
        'class Order(models.Model):',
        '    total = models.IntegerField()',
        '    class Meta:',
        "        db_table = 'shop_orders'",
        '        app_label = "shop"',
        'class Base(models.Model):',
        '    class Meta:',
        '        abstract = True',
        'class Proxy(Order):',
        '    class Meta:',
        '        proxy = True',
        'class Cart(Base):',
        '    __tablename__ = "carts"',
        "lines = Table('cart_lines', metadata)",
      ].join('\n'),
    );
    expect(f.classes.map((c) => [c.name, c.table, c.abstract, c.proxy, c.sqlalchemy, c.appLabel])).toEqual([
      ['Order', 'shop_orders', false, false, false, 'shop'],
      ['Base', null, true, false, false, null],
      ['Proxy', null, false, true, false, null],
      ['Cart', 'carts', false, false, true, null],
    ]);
    expect(f.tables).toEqual([{ table: 'cart_lines', line: 14 }]);
  });

  it('reads relations named by string', () => {
    const f = facts(
      'class Like(models.Model):\n    post = models.ForeignKey(\'news.Post\', on_delete=models.CASCADE)\n    tags = models.ManyToManyField("tags.Tag")\n',
    );
    expect(f.relations).toEqual([
      ['news', 'Post'],
      ['tags', 'Tag'],
    ]);
  });

  it('reads SQL in string literals: reads, writes and the schema', () => {
    const f = facts(
      [
        'def f(db):',
        '    db.execute("SELECT b.id FROM blocks b JOIN users u ON u.id = b.user_id")',
        '    db.execute("INSERT OR IGNORE INTO blocks (a) VALUES (?)")',
        "    db.execute('update feed_posts set seen = 1 where id = ?')",
        '    db.execute("""CREATE TABLE IF NOT EXISTS audit (id INTEGER)""")',
        '    db.execute("SELECT * FROM information_schema.tables")',
      ].join('\n'),
    );
    expect(f.sql.map((q) => [q.table, q.write, q.create, q.line])).toEqual([
      ['blocks', false, false, 2],
      ['users', false, false, 2],
      ['blocks', true, false, 3],
      ['feed_posts', true, false, 4],
      ['audit', false, true, 5],
    ]);
  });

  it('never reads prose or comments as SQL', () => {
    const f = facts(
      [
        '"""Select the emails from that list, then update them from the archive."""',
        '# SELECT id FROM comments_are_not_code',
        'msg = "Remove the user from the feed and insert into the log"',
      ].join('\n'),
    );
    expect(f.sql).toEqual([]);
  });
});

describe('entry points', () => {
  it('reads Django URL patterns, includes of modules and of lists, and the view', () => {
    const f = facts(
      [
        'from django.urls import include, path, re_path',
        'from shop import views',
        'detail = [',
        "    path('edit/', views.edit),",
        ']',
        'urlpatterns = [',
        "    path('shop/<int:pk>/', include(detail)),",
        "    re_path(r'^api/', include('api.urls')),",
        "    path('', views.index, name='index'),",
        ']',
        'def helper():',
        '    """path(\'docstring/\', not_a_view)"""',
      ].join('\n'),
    );
    expect(f.routes.map((r) => [r.path, r.include, r.includeList, r.list, r.on, r.line])).toEqual([
      ['edit/', null, null, 'detail', 'views.edit', 4],
      ['shop/<int:pk>/', '', 'detail', 'urlpatterns', null, 7],
      ['^api/', 'api.urls', null, 'urlpatterns', null, 8],
      ['', null, null, 'urlpatterns', 'views.index', 9],
    ]);
  });

  it('reads Flask routes, blueprints and their registrations', () => {
    const f = facts(
      [
        "bp = Blueprint('cart', __name__, url_prefix='/cart')",
        "@bp.route('/<int:id>', methods=['GET', 'POST'])",
        'def show(id): pass',
        "@app.delete('/all')",
        'def clear(): pass',
        "app.register_blueprint(other_bp, url_prefix='/other')",
      ].join('\n'),
    );
    expect(f.blueprints).toEqual([{ variable: 'bp', name: 'cart', prefix: '/cart', line: 1 }]);
    expect(f.routes.map((r) => [r.path, r.methods, r.on])).toEqual([
      ['/<int:id>', ['GET', 'POST'], 'bp'],
      ['/all', ['DELETE'], 'app'],
    ]);
    expect(f.registrations).toEqual([{ variable: 'other_bp', prefix: '/other' }]);
  });

  it('writes patterns as strangler route paths', () => {
    expect(toRoutePath('api/block/<int:user_id>/')).toBe('/api/block/:user_id/');
    expect(toRoutePath('^list/(?P<fqdn>[^/]+)/$')).toBe('/list/*');
    expect(toRoutePath('^api/blo(?P<x>.)')).toBe('/api/*');
    // HyperKitty's `^listinfo/?$` is /listinfo (with or without the slash), not /listinfo/* (issue 31)
    expect(toRoutePath('^listinfo/?$')).toBe('/listinfo');
    expect(toRoutePath('files/<path:rest>')).toBe('/files/*');
    expect(toRoutePath('/<slug>')).toBe('/:slug');
  });
});
