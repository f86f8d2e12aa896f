// ESLint guards what review keeps missing: promises nobody waits for, import cycles, and the
// import rules that keep the parts apart (docs/testing.md, "Lint"). Type-aware: the rules read
// the types of tsconfig.json's program (src, test, bench).
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** Node built-ins that reach the outside world (files, network, processes, the host). */
const IO_BUILTINS = [
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns', 'dns/promises',
  'child_process', 'cluster', 'worker_threads', 'os', 'process', 'readline', 'readline/promises',
  'tty', 'inspector', 'repl',
];

/** `no-restricted-imports` entries for both spellings (`node:fs`, `fs`) of each I/O built-in. */
const ioBuiltinPaths = IO_BUILTINS.flatMap((name) => [`node:${name}`, name]).map((name) =>
  // isIP() and its siblings only parse a string.
  name === 'node:net' || name === 'net'
    ? { name, allowImportNames: ['isIP', 'isIPv4', 'isIPv6'], message: 'src/core does no I/O: only the pure isIP helpers of node:net.' }
    : { name, message: 'src/core does no I/O: put this where the I/O happens and pass the result in.' },
);

/** Where the CLI may import from (relative to src/), besides its own folder: the wire types and where `nimbus up` listens by default. */
const CLI_ALLOWED = ['cli', 'core', 'util', 'api/wire.ts', 'config/server-defaults.ts'];

/** Zone: CLI files reach only the public HTTP API (and, for the listed commands, more). */
function cliZone(target, extra = []) {
  return {
    target,
    from: 'src',
    except: [...CLI_ALLOWED, ...extra],
    message: 'The CLI uses only the public HTTP API: its types are in src/api/wire.ts.',
  };
}

/**
 * The commands that start the platform themselves (composition roots), and the modules each may
 * import besides the CLI's own, relative to src/.
 */
const PLATFORM_STARTERS = {
  'src/cli/commands/up.ts': ['server.ts'],
  'src/cli/commands/dev.ts': ['server.ts'],
  'src/cli/commands/doctor.ts': ['host-report.ts'],
};

/**
 * What the in-sandbox shims may import: `node:` built-ins and their own folder. (`\x2f` is `/`,
 * which esquery's regex syntax does not allow inside a selector's regex.)
 */
const SHIM_IMPORT = '^(node:|\\.\\x2f)';
const SHIM_MESSAGE = 'Runtime shims run inside the sandbox: only node: built-ins and the files of their own folder.';

/** Zone for every file of src/: production code does not depend on tests or benchmarks. */
const NOT_TESTS = { target: 'src', from: ['test', 'bench'], message: 'Production code does not depend on tests or benchmarks.' };

export default defineConfig([
  {
    ignores: ['dist/**', 'node_modules/**', 'examples/**', '.nimbus/**', '.scratch/**', 'bench/results/**', 'test/**/fixtures/**/*.{js,mjs,cjs}'],
  },
  {
    files: ['**/*.{ts,cts}'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      // NodeNext: `./x.js` names `./x.ts`, `./x.cjs` names `./x.cts`. Without the alias the
      // resolver finds nothing, and no-cycle and no-restricted-paths pass silently.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.cts', '.js', '.cjs'], extensionAlias: { '.js': ['.ts', '.js'], '.cjs': ['.cts', '.cjs'] } }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test runs top-level test()/describe() itself and reports their failures.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Type-only imports are erased, so only value imports can form a cycle at run time.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: root,
          zones: [NOT_TESTS],
        },
      ],
    },
  },
  {
    // The core is pure: types, validation, the error catalogue, decisions. No I/O, no other part.
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioBuiltinPaths,
          patterns: [{ regex: '^(?!node:|\\.|zod$)', message: 'src/core imports only zod, node: built-ins that do no I/O, and itself.' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core does no I/O: pass what it needs from the process in.' },
        { name: 'fetch', message: 'src/core does no I/O.' },
      ],
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: root,
          zones: [
            {
              target: 'src/core',
              from: 'src',
              // The runtime protocol's constants have their one definition in the node shim, and the
              // API's names and limits theirs in the wire types (a leaf: it imports only core leaves).
              except: ['core', 'runtimes/node/constants.cts', 'api/wire.ts'],
              message: 'src/core depends on no other part.',
            },
            NOT_TESTS,
          ],
        },
      ],
    },
  },
  {
    // Runtime shims run inside the sandbox, copied alone into the run directory. src/runtimes
    // holds nothing else: platform-side code about runtimes is in src/runtime-adapters.
    files: ['src/runtimes/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(?!${SHIM_IMPORT.slice(1)})`, message: SHIM_MESSAGE }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression > Literal.source:not([value=/${SHIM_IMPORT}/])`,
          message: SHIM_MESSAGE,
        },
        {
          selector: `CallExpression[callee.name='require'] > Literal.arguments:not([value=/${SHIM_IMPORT}/])`,
          message: SHIM_MESSAGE,
        },
        {
          selector: `TSExternalModuleReference > Literal:not([value=/${SHIM_IMPORT}/])`,
          message: SHIM_MESSAGE,
        },
      ],
    },
  },
  {
    // The dashboard runs in the browser and, like the CLI, knows the platform only through the
    // public HTTP API: its own folder and the wire types.
    files: ['src/ui/**'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: root,
          zones: [{ target: 'src/ui', from: 'src', except: ['ui', 'api/wire.ts'], message: 'The dashboard uses only the public HTTP API: its types are in src/api/wire.ts.' }, NOT_TESTS],
        },
      ],
    },
  },
  {
    files: ['src/cli/**'],
    ignores: Object.keys(PLATFORM_STARTERS),
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: [cliZone('src/cli'), NOT_TESTS] }],
    },
  },
  ...Object.entries(PLATFORM_STARTERS).map(([file, extra]) => ({
    files: [file],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: [cliZone(file, extra), NOT_TESTS] }],
    },
  })),
]);
