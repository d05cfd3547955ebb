#!/usr/bin/env node
// The `cairn` command. Code locations are TypeScript, so the CLI registers tsx's loader before anything else.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
