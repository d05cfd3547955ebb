import assert from 'node:assert/strict';
import { test } from 'node:test';
import { job } from '../../definitions/job';
import { parseSensorResult, sensor, sensorProblems, sensorWorkflowId } from '../../definitions/sensor';

test('a sensor targets a job or a selection and defaults its interval to 30s', () => {
  const s = sensor({ name: 'synced', target: job({ name: 'nightly', selection: 'group:marts' }), evaluate: () => undefined });
  assert.deepEqual([s.job, s.selection, s.minimumInterval], ['nightly', 'group:marts', '30s']);
  assert.equal(sensorWorkflowId('shop', 'synced'), 'cairn/sensor/shop/synced');
  assert.deepEqual(sensorProblems(s), []);
});

test('bad names, intervals and evaluate functions are reported with the sensor', () => {
  const problems = [
    ...sensorProblems(sensor({ name: 'Bad', evaluate: () => undefined })),
    ...sensorProblems(sensor({ name: 'fast', minimumInterval: '0s', evaluate: () => undefined })),
    ...sensorProblems(sensor({ name: 'odd', minimumInterval: 'soon', evaluate: () => undefined })),
    ...sensorProblems(sensor({ name: 'noop', evaluate: 'x' as unknown as () => undefined })),
  ];
  assert.match(problems[0] ?? '', /sensor 'Bad': the name must be lowercase/);
  assert.match(problems[1] ?? '', /sensor 'fast': minimumInterval '0s' must be greater than zero/);
  assert.match(problems[2] ?? '', /sensor 'odd': minimumInterval/);
  assert.match(problems[3] ?? '', /sensor 'noop': evaluate must be a function/);
});

test('an evaluation result is validated and a malformed one names every bad field', () => {
  assert.deepEqual(parseSensorResult(undefined, 's'), {});
  const ok = parseSensorResult({ runRequests: [{ runKey: 'sync-42', partition: '2024-01-05' }], cursor: '42' }, 's');
  assert.equal(ok.runRequests?.[0]?.runKey, 'sync-42');
  assert.throws(
    () => parseSensorResult({ runRequests: [{ partition: '' }], assetEvents: [{ key: 'raw/x', kind: 'created' }], curser: 'x' }, 'synced'),
    (err: Error) => {
      assert.match(err.message, /^sensor 'synced' returned a malformed result: /);
      assert.match(err.message, /runRequests\[0\]\.partition: Too small/);
      assert.match(err.message, /assetEvents\[0\]\.kind: Invalid option: expected one of "materialization"\|"observation"/);
      assert.match(err.message, /\(result\): Unrecognized key: "curser"/);
      return true;
    },
  );
});
