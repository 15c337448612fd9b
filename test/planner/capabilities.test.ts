/**
 * Capabilities, not files (issue 14): a small Django project and a small
 * Flask app written to a temp folder, planned end to end. Apps and blueprints
 * are the units, libraries are listed apart, tables are owned or shared (the
 * blocker named), URL patterns become routes, and the seed's criteria rank.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePlan } from '../../planner/make-plan.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('strangler-capabilities-');
afterAll(() => tmp.cleanup());

function tree(name: string, files: Record<string, string>): string {
  const root = path.join(tmp.dir, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const DJANGO = {
  'manage.py': 'import os\nfrom site_cfg import settings\n',
  'site_cfg/__init__.py': '',
  'site_cfg/settings.py': 'INSTALLED_APPS = ["block", "feed", "common"]\n',
  'site_cfg/urls.py': [
    'from django.urls import include, path',
    'urlpatterns = [',
    "    path('api/block/', include('block.urls')),",
    "    path('api/feed/', include('feed.urls')),",
    ']',
  ].join('\n'),
  'common/__init__.py': '',
  'common/utils.py': 'def money(x):\n    return "%.2f" % x\n',
  'common/exceptions.py': 'class NotFound(Exception):\n    pass\n',
  'block/__init__.py': '',
  'block/apps.py': 'from django.apps import AppConfig\nclass BlockConfig(AppConfig):\n    name = "block"\n',
  'block/models.py': [
    'from django.db import models',
    'class Block(models.Model):',
    '    user_id = models.IntegerField()',
    '    class Meta:',
    '        db_table = "blocks"',
    'class Base(models.Model):',
    '    class Meta:',
    '        abstract = True',
  ].join('\n'),
  'block/views.py':
    'from block.models import Block\nfrom common.utils import money\nfrom common.exceptions import NotFound\ndef blocked(request, user_id):\n    return Block.objects.filter(user_id=user_id)\n',
  'block/urls.py': [
    'from django.urls import path, re_path',
    'from block import views',
    'urlpatterns = [',
    "    path('<int:user_id>/', views.blocked),",
    "    re_path(r'^all/(?P<page>\\d+)$', views.blocked),",
    ']',
    'def helper():',
    '    """Example: path(\'not/a/route/\', view) in a docstring is not a route."""',
  ].join('\n'),
  'block/tests.py': 'from block import views\nfrom feed import views as v\n',
  'block/migrations/__init__.py': '',
  'block/migrations/0001_initial.py': 'from django.db import migrations\n',
  'feed/__init__.py': '',
  'feed/apps.py':
    'from django.apps import AppConfig\nclass FeedConfig(AppConfig):\n    name = "feed"\n    label = "news"\n',
  'feed/models.py':
    'from django.db import models\nclass Post(models.Model):\n    body = models.TextField()\n',
  'feed/views.py': [
    'from block.models import Block',
    'from feed.models import Post',
    'from common.utils import money',
    'def feed(request):',
    '    hidden = Block.objects.all()',
    '    return Post.objects.exclude(author__in=hidden)',
  ].join('\n'),
  'feed/urls.py':
    'from django.urls import path\nfrom feed import views\nurlpatterns = [path("", views.feed)]\n',
  'likes/__init__.py': '',
  'likes/apps.py': 'from django.apps import AppConfig\nclass LikesConfig(AppConfig):\n    name = "likes"\n',
  'likes/models.py':
    "from django.db import models\nclass Like(models.Model):\n    post = models.ForeignKey('news.Post', on_delete=models.CASCADE)\n",
  'reports/__init__.py': '',
  'reports/apps.py':
    'from django.apps import AppConfig\nclass ReportsConfig(AppConfig):\n    name = "reports"\n',
  'reports/models.py': '',
  'reports/sql.py':
    'def count(cur):\n    cur.execute("SELECT COUNT(*) FROM news_post JOIN blocks ON blocks.user_id = news_post.id")\n    cur.execute("INSERT INTO report_runs (at) VALUES (now())")\n',
  'reports/conftest.py': 'import pytest\n',
};

describe('a Django project', async () => {
  const root = tree('django', DJANGO);
  const plan = await makePlan({ path: root, git: false });
  const byName = new Map(plan.candidates.map((c) => [c.name, c]));

  it('units are apps, not files; tests, migrations, settings, conftest.py and manage.py are out', () => {
    expect(byName.get('block')).toMatchObject({ kind: 'capability', source: 'django-app' });
    expect(byName.get('block')!.modules).toEqual([
      'block',
      'block.apps',
      'block.models',
      'block.urls',
      'block.views',
    ]);
    const all = plan.modules.map((m) => m.name);
    for (const gone of [
      'block.tests',
      'block.migrations.0001_initial',
      'site_cfg.settings',
      'manage',
      'reports.conftest',
    ])
      expect(all).not.toContain(gone);
    expect(plan.notes.find((n) => n.startsWith('left out:'))).toBe(
      'left out: 2 migrations, 1 test module, 1 manage.py, 1 conftest.py, 1 settings module (--include-tests brings tests back)',
    );
  });

  it('lists shared helpers as a library, never a candidate', () => {
    expect(plan.candidates.map((c) => c.name)).not.toContain('common');
    const common = plan.libraries.find((l) => l.name === 'common')!;
    expect(common.importers).toEqual(['block', 'feed']);
    expect(common.reason).toMatch(
      /^shared library — copy or package it, don't extract it: stateless code \(common, exceptions, utils\) imported by 2 units/,
    );
  });

  it('finds the tables each app defines: Meta.db_table, app_label_modelname with AppConfig.label, not abstract models', () => {
    expect(byName.get('block')!.tables.owns).toEqual(['blocks']);
    expect(byName.get('feed')!.tables.owns).toEqual(['news_post']);
    expect(byName.get('reports')!.tables.owns).toEqual(['report_runs']);
  });

  it('names the shared table as the blocker: model imports and raw SQL', () => {
    expect(byName.get('block')!.tables.shares).toEqual([
      { table: 'blocks', owner: 'block', with: ['feed', 'reports'] },
    ]);
    expect(byName.get('block')!.reasons.join('\n')).toMatch(/blocker: blocks is also used by feed, reports/);
    expect(byName.get('reports')!.reasons.join('\n')).toMatch(
      /uses 2 tables of other capabilities: blocks \(block\), news_post \(feed\); blocker/,
    );
  });

  it("counts a relation by string (ForeignKey('news.Post')) as a use of that table", () => {
    expect(byName.get('likes')!.tables.owns).toEqual(['likes_like']);
    expect(byName.get('feed')!.tables.shares).toContainEqual({
      table: 'news_post',
      owner: 'feed',
      with: ['likes', 'reports'],
    });
  });

  it('finds the routes through include(), as strangler paths, ignoring a docstring', () => {
    expect(byName.get('block')!.routes).toEqual(['/api/block/:user_id/', '/api/block/all/*']);
    expect(byName.get('feed')!.routes).toEqual(['/api/feed/']);
  });

  it('ranks by the seed: block (no other capability, own table) before feed (depends on block)', () => {
    const order = plan.candidates.map((c) => c.name);
    expect(order.indexOf('block')).toBeLessThan(order.indexOf('feed'));
    expect(byName.get('feed')!.dependsOn).toEqual(['block']);
    expect(byName.get('block')!.reasons[0]).toBe(
      'depends on no other capability: only the shared library common and its own tables (+1.00)',
    );
    expect(byName.get('feed')!.reasons[0]).toBe('depends on 1 other capability: block (-0.50)');
  });

  it('--include-tests brings the tests back', async () => {
    const withTests = await makePlan({ path: root, git: false, includeTests: true });
    expect(withTests.modules.map((m) => m.name)).toContain('block.tests');
  });
});

describe('a Flask app with blueprints and SQLAlchemy', async () => {
  const root = tree('flask', {
    'shop/__init__.py': [
      'from flask import Flask',
      'from shop.cart.views import bp as cart_bp',
      'from shop.newsletter import bp as news_bp',
      'def create_app():',
      '    app = Flask(__name__)',
      "    app.register_blueprint(cart_bp, url_prefix='/api/cart')",
      '    app.register_blueprint(news_bp)',
      '    return app',
    ].join('\n'),
    'shop/util.py': 'def money(x):\n    return round(x, 2)\n',
    'shop/cart/__init__.py': '',
    'shop/cart/views.py': [
      'from flask import Blueprint',
      'from shop.util import money',
      'from shop.cart.models import Cart',
      "bp = Blueprint('cart', __name__)",
      "@bp.route('/<int:cart_id>', methods=['GET', 'POST'])",
      'def show(cart_id):',
      '    return money(Cart.query.get(cart_id).total)',
    ].join('\n'),
    'shop/cart/models.py': 'from shop.db import Base\nclass Cart(Base):\n    __tablename__ = "carts"\n',
    'shop/newsletter/__init__.py': [
      'from flask import Blueprint',
      'from shop.util import money',
      "bp = Blueprint('newsletter', __name__, url_prefix='/newsletter')",
      "subscribers = Table('subscribers', metadata)",
      "@bp.get('/subscribe')",
      'def subscribe():',
      '    return money(0)',
    ].join('\n'),
    'shop/db.py': 'Base = object\n',
    'shop/orders.py': 'from shop.util import money\nfrom shop.cart.models import Cart\n',
  });
  const plan = await makePlan({ path: root, git: false });
  const byName = new Map(plan.candidates.map((c) => [c.name, c]));

  it('blueprints are units with their prefixed routes and SQLAlchemy tables', () => {
    expect(byName.get('shop.cart')).toMatchObject({
      source: 'blueprint',
      routes: ['GET,POST /api/cart/:cart_id'],
    });
    expect(byName.get('shop.cart')!.tables.owns).toEqual(['carts']);
    expect(byName.get('shop.newsletter')).toMatchObject({
      source: 'blueprint',
      routes: ['GET /newsletter/subscribe'],
    });
    expect(byName.get('shop.newsletter')!.tables.owns).toEqual(['subscribers']);
  });

  it('a 2-line helper imported by many is a library, ranked nowhere (the toy of the issue)', () => {
    expect(byName.has('shop.util')).toBe(false);
    expect(plan.libraries.map((l) => l.name)).toContain('shop.util');
    // the standalone newsletter goes first: its data and route are its own, nothing imports it
    expect(plan.candidates[0].name).toBe('shop.newsletter');
  });
});
