/**
 * Child process for crash tests: opens the stack over `<root>` and adds `<file>` (copied from
 * disk) through the library, as an admin's /add or upload would. The parent SIGKILLs it at random.
 * Usage: node --import tsx test/support/add-child.ts <root> <file>
 */
import fs from 'node:fs';
import path from 'node:path';
import { testApp } from './stack.js';

const [root = '', file = ''] = process.argv.slice(2);
const app = await testApp(root);
await app.library.ensure();
process.stdout.write('ready\n');
const { article } = await app.library.addFile(path.basename(file), fs.readFileSync(file));
process.stdout.write(`added ${article.id}\n`);
app.close();
