// Loaded with `node --import`: prints every module a process resolves to stderr ("imported <url>"),
// so a test can see which packages a command loads.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  process.stderr.write('imported ' + resolved.url + '\\n');
  return resolved;
}`),
);
