import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { bundleWorkflowCode } from '@temporalio/worker';
import { CAIRN_HOME } from '../../workers/settings';
import { WORKFLOWS_PATH } from '../../workers/workflow-bundle';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

test('the workflows bundle with bundleWorkflowCode, so a forbidden import in workflow code fails this suite', async () => {
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  assert.match(bundle.code, /materializeAssets/);
});

test('a workflow that imports a Node built-in does not bundle, and the bundler names the module', async () => {
  const errors: string[] = [];
  const capture = { ...quiet, error: (m: string) => void errors.push(m) };
  await assert.rejects(bundleWorkflowCode({ workflowsPath: resolve(CAIRN_HOME, 'test/fixtures/forbidden-workflow/index.ts'), logger: capture }), /Webpack finished with errors/);
  assert.match(errors.join('\n'), /fs/);
});
