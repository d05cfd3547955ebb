import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createDatabase, startPostgres, type PostgresServer } from '../support/postgres-server';

/** Resolves true if something accepts a TCP connection on 127.0.0.1:port, false if it is refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());

  test('serves the default database to the cairn superuser over TCP', async () => {
    assert.match(server.url, /^postgres:\/\/cairn@127\.0\.0\.1:\d+\/cairn_test$/);
    assert.equal(server.url, `postgres://cairn@127.0.0.1:${server.port}/cairn_test`);
    const rows = await query<{ one: number; db: string; usr: string; super: string }>(
      server.url,
      "select 1 as one, current_database() as db, current_user as usr, current_setting('is_superuser') as super",
    );
    assert.deepEqual(rows, [{ one: 1, db: 'cairn_test', usr: 'cairn', super: 'on' }]);
  });

  test('createDatabase adds an empty database and returns its URL', async () => {
    const url = await createDatabase(server, 'cairn_extra');
    assert.equal(url, `postgres://cairn@127.0.0.1:${server.port}/cairn_extra`);
    const [row] = await query<{ db: string; tables: string }>(
      url,
      "select current_database() as db, count(*)::text as tables from information_schema.tables where table_schema = 'public'",
    );
    assert.deepEqual(row, { db: 'cairn_extra', tables: '0' });
  });
});

test('a named database; stop() closes the port, removes the directory and is idempotent', async () => {
  const server = await startPostgres({ database: 'bench db' });
  assert.equal(server.url, `postgres://cairn@127.0.0.1:${server.port}/bench%20db`);
  const [row] = await query<{ db: string }>(server.url, 'select current_database() as db');
  assert.equal(row?.db, 'bench db');
  assert.equal(existsSync(server.dataDir), true);

  await Promise.all([server.stop(), server.stop()]);
  await server.stop();
  assert.equal(await accepts(server.port), false);
  assert.equal(existsSync(server.dataDir), false);
});
