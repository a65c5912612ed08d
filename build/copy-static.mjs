// Copies the renderer's static files next to its compiled script (part of `npm run build`), with the
// app's name from identity.json put in where index.html says {{productName}} and {{initial}}.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
// The app's own rules (compiled just before this runs): a bad identity.json fails the build, not the app.
import { checkIdentity } from '../dist/src/config/identity-rules.js';

const identity = checkIdentity(JSON.parse(readFileSync('identity.json', 'utf8')));
const escape = (text) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const values = { productName: escape(identity.productName), initial: escape([...identity.productName.trim()][0] ?? '') };

mkdirSync('dist/renderer', { recursive: true });
const html = readFileSync('renderer/index.html', 'utf8').replace(/\{\{(\w+)\}\}/g, (whole, key) => values[key] ?? whole);
writeFileSync('dist/renderer/index.html', html);
cpSync('renderer/styles.css', 'dist/renderer/styles.css');
