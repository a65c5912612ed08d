// Copies the renderer's static files next to its compiled script (part of `npm run build`).
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist/renderer', { recursive: true });
for (const file of ['index.html', 'styles.css']) cpSync(`renderer/${file}`, `dist/renderer/${file}`);
