#!/usr/bin/env node
// The `newsdesk` command (package.json "bin"): runs the TypeScript CLI through tsx, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
