/** The product version, from package.json (esbuild inlines only this field). */
export { version } from '../../package.json';
