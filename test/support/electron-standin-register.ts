// `node --import` this file: `import … from 'electron'` then loads the stand-in (electron-standin.ts)
// instead of the npm package (which, under Node, exports only the path of a binary not present here).
import { register } from 'node:module';

register(new URL('./electron-standin-hooks.js', import.meta.url));
