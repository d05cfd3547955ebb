// Loaded by the Temporal SDK with require() (see ENCRYPTED_FAILURE_CONVERTER_PATH in encryption.ts): failure
// messages and stack traces travel in a payload, which the encryption codec then encrypts. CommonJS because
// the SDK requires the file by path, and Node's require() cannot load TypeScript.
/* global require, exports */
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
