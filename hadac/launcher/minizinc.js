#!/usr/bin/env node
'use strict';
/*
 * `minizinc` command line on top of the WebAssembly build of MiniZinc that the
 * npm package `minizinc` ships (MiniZinc with Gecode, COIN-BC, HiGHS and
 * Chuffed compiled in).
 *
 * The package's own Node entry point drives a native `minizinc` executable, so
 * only its browser entry point uses the WebAssembly build: it loads
 * `dist/minizinc-worker.js` as a Web Worker, posts `{wasmURL, dataURL}` (answered
 * by `{type: "ready"}`) and then jobs `{files, args, jsonStream, outputFiles}`
 * (answered by `{type: "exit", code, stdout, stderr, outputFiles}`). This
 * launcher runs that same worker script in a Node `worker_threads` thread, with
 * the two Web Worker globals it uses (`addEventListener`, `postMessage`) mapped
 * onto the thread's message port. The WebAssembly code blocks the thread that
 * runs it, so running it off the main thread is what lets the messages it posts
 * while solving (`--json-stream` lines, intermediate solutions) reach stdout as
 * they are produced, and lets a signal or a time-limit backstop stop it.
 *
 * The worker has its own in-memory file system: files named on the command line
 * (and the files that models include by relative path) are copied in under
 * `/minizinc/<absolute host path>`, and output files (`-o`, `--fzn`, ...) are
 * copied back out when the run ends. File names in messages are mapped back to
 * host paths.
 *
 * Without `--json-stream` the worker buffers all output until MiniZinc exits,
 * so plain-text output appears at the end of the run (exactly as MiniZinc
 * formats it) and is lost if the run is interrupted by a signal. With
 * `--json-stream` every line is relayed as it is produced.
 *
 * `--version`, `--solvers` and `--solvers-json` are answered from a cache file
 * next to this script when it exists and matches the installed package (see
 * `--hadac-refresh-cache`), because starting the WebAssembly runtime costs
 * several hundred milliseconds and the Python `minizinc` package asks for these
 * before its first solve.
 *
 * Environment:
 *   HADAC_MINIZINC_PACKAGE  directory of the npm package `minizinc` to use
 *   HADAC_HOME              install root (default /opt/hadac); the package is
 *                           looked up in $HADAC_HOME/bundled/node_modules too
 *   HADAC_MINIZINC_V8_FLAGS V8 flags set before the WebAssembly is compiled
 *                           (default: --liftoff-only, see below)
 */

const fs = require('node:fs');
const path = require('node:path');
const { isMainThread, Worker, parentPort, workerData } = require('node:worker_threads');

const VFS_ROOT = '/minizinc/';
const CACHE_FILE = path.join(__dirname, 'minizinc-cache.json');
// Arguments answered from the cache. The Python package adds the last two to
// every call; they do not change what these queries print.
const CACHEABLE = ['--version', '--solvers', '--solvers-json'];
const CACHE_NEUTRAL = new Set(['--json-stream', '--allow-multiple-assignments']);

// An expected failure, reported without a stack trace.
class LauncherError extends Error {}

// ---------------------------------------------------------------------------
// Worker thread: host the package's Emscripten worker script.

function runEmscriptenWorker({ workerScript }) {
  const vm = require('node:vm');
  const { createRequire } = require('node:module');
  // Emscripten names the program after argv[1]; MiniZinc prefixes its
  // messages with that name.
  process.argv[1] = path.join(path.dirname(process.argv[1]), 'minizinc');
  globalThis.postMessage = (message) => parentPort.postMessage(message);
  globalThis.addEventListener = (type, listener) => {
    if (type === 'message') parentPort.on('message', (data) => listener({ data }));
  };
  // The script is CommonJS (it uses require/__dirname in Node) but lives in a
  // package marked "type": "module", so `require()` would refuse it.
  const source = fs.readFileSync(workerScript, 'utf8');
  const params = ['exports', 'require', 'module', '__filename', '__dirname'];
  const fn = vm.compileFunction(source, params, { filename: workerScript });
  const mod = { exports: {} };
  fn(mod.exports, createRequire(workerScript), mod, workerScript, path.dirname(workerScript));
}

// ---------------------------------------------------------------------------
// Main thread.

async function main() {
  const argv = process.argv.slice(2);
  const pkg = findPackage();

  if (argv.length === 1 && argv[0] === '--hadac-refresh-cache') {
    await refreshCache(pkg);
    return;
  }

  const cached = lookupCache(pkg, argv);
  if (cached) {
    process.stdout.write(cached.stdout || '');
    process.stderr.write(cached.stderr || '');
    process.exitCode = cached.code;
    return;
  }

  const job = buildJob(argv);
  await runJob(pkg, job);
}

function findPackage() {
  const home = process.env.HADAC_HOME || '/opt/hadac';
  const candidates = [
    process.env.HADAC_MINIZINC_PACKAGE,
    path.join(__dirname, 'node_modules', 'minizinc'),
    path.join(home, 'bundled', 'node_modules', 'minizinc'),
  ].filter(Boolean);
  for (const dir of candidates) {
    const dist = path.join(dir, 'dist');
    if (fs.existsSync(path.join(dist, 'minizinc-worker.js'))) {
      return {
        dir,
        workerScript: path.join(dist, 'minizinc-worker.js'),
        wasm: path.join(dist, 'minizinc.wasm'),
        data: path.join(dist, 'minizinc.data'),
      };
    }
  }
  throw new LauncherError(
    `npm package "minizinc" not found (looked in ${candidates.join(', ')}); ` +
      'run scripts/install-minizinc.sh',
  );
}

// ----- cache of --version / --solvers / --solvers-json ---------------------

function cacheKey(pkg) {
  const st = fs.statSync(pkg.wasm);
  const { version } = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'package.json'), 'utf8'));
  return { package: version, wasmSize: st.size, wasmMtimeMs: Math.trunc(st.mtimeMs) };
}

function lookupCache(pkg, argv) {
  const rest = argv.filter((a) => !CACHE_NEUTRAL.has(a));
  if (rest.length !== 1 || !CACHEABLE.includes(rest[0])) return null;
  let cache;
  try {
    cache = JSON.parse(fs.readFileSync(CACHE_FILE, 'utf8'));
  } catch {
    return null;
  }
  const key = cacheKey(pkg);
  const same = Object.keys(key).every((k) => cache.key && cache.key[k] === key[k]);
  return same && cache.entries ? cache.entries[rest[0]] || null : null;
}

async function refreshCache(pkg) {
  const entries = {};
  const runner = startWorker(pkg);
  try {
    for (const arg of CACHEABLE) {
      const result = await runner.run({ files: {}, args: [arg], jsonStream: false }, () => {});
      if (result.code !== 0) throw new LauncherError(`minizinc ${arg} failed: ${result.stderr || ''}`);
      entries[arg] = { code: result.code, stdout: result.stdout || '', stderr: result.stderr || '' };
    }
  } finally {
    await runner.worker.terminate();
  }
  const tmp = `${CACHE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ key: cacheKey(pkg), entries }, null, 2) + '\n');
  fs.renameSync(tmp, CACHE_FILE);
  process.stdout.write(`wrote ${CACHE_FILE}\n`);
}

// ----- command line -> job ------------------------------------------------

// Options whose value names a file MiniZinc writes.
const OUTPUT_FILE_OPTIONS = new Set([
  '-o',
  '--output-to-file',
  '--fzn',
  '--output-fzn-to-file',
  '--ozn',
  '--output-ozn-to-file',
  '--output-paths-to-file',
]);
// Options whose value names a directory of MiniZinc files.
const SEARCH_DIR_OPTIONS = new Set(['-I', '--search-dir']);
// The WebAssembly build cannot start threads: Gecode and HiGHS fail ("thread
// constructor failed") when asked for more than one, so the launcher runs every
// solver single-threaded and drops these (with their value).
const PARALLEL_OPTIONS = new Set(['-p', '--parallel']);
// Options whose value is never a file, even if a file of that name exists.
const VALUE_OPTIONS = new Set([
  '-D',
  '--cmdline-data',
  '-r',
  '--random-seed',
  '-t',
  '--time-limit',
  '--solver-time-limit',
  '-O',
  '-n',
  '--num-solutions',
  '--num-optimal',
  '--output-mode',
  '--backend-flags',
  '--fzn-flags',
  '--fzn-flag',
  '--cmdline-json-data',
]);
const MODEL_EXTENSIONS = /\.(mzn|mzc)$/;
const INCLUDE_RE = /\binclude\s+"([^"]+)"/g;

function buildJob(argv) {
  const files = {}; // virtual name -> text
  const hostOf = new Map(); // virtual name -> host path
  const outputFiles = []; // virtual names copied back out
  const args = [];
  let jsonStream = false;
  let timeLimitMs = null;

  const addFile = (hostPath) => {
    const abs = path.resolve(hostPath);
    const vname = virtualName(abs);
    if (!(vname in files)) {
      files[vname] = fs.readFileSync(abs, 'utf8');
      hostOf.set(vname, abs);
      if (MODEL_EXTENSIONS.test(abs)) addIncludes(abs, files[vname]);
    }
    return VFS_ROOT + vname;
  };
  // Models may include files next to them; copy those that exist so that the
  // relative include resolves the same way inside the worker.
  const addIncludes = (abs, text) => {
    for (const m of text.matchAll(INCLUDE_RE)) {
      const inc = path.resolve(path.dirname(abs), m[1]);
      if (isFile(inc)) addFile(inc);
    }
  };
  const addDir = (dir) => {
    const abs = path.resolve(dir);
    for (const entry of fs.readdirSync(abs, { withFileTypes: true, recursive: true })) {
      const p = path.join(entry.path || entry.parentPath || abs, entry.name);
      if (entry.isFile() && /\.(mzn|mzc|dzn|json)$/.test(entry.name)) addFile(p);
    }
    return VFS_ROOT + virtualName(abs);
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json-stream') {
      // The worker adds it itself when asked to stream.
      jsonStream = true;
    } else if (OUTPUT_FILE_OPTIONS.has(a) && i + 1 < argv.length) {
      const abs = path.resolve(argv[++i]);
      const vname = virtualName(abs);
      hostOf.set(vname, abs);
      outputFiles.push(vname);
      args.push(a, VFS_ROOT + vname);
    } else if (PARALLEL_OPTIONS.has(a) && i + 1 < argv.length) {
      const n = argv[++i];
      if (Number(n) > 1) {
        process.stderr.write(`minizinc launcher: ignoring ${a} ${n}: the WebAssembly build has no threads\n`);
      }
    } else if (SEARCH_DIR_OPTIONS.has(a) && i + 1 < argv.length) {
      const dir = argv[++i];
      args.push(a, isDir(dir) ? addDir(dir) : dir);
    } else if (a === '--solver' && i + 1 < argv.length) {
      const value = argv[++i];
      args.push(a, /\.(msc|mpc)$/.test(value) && isFile(value) ? addFile(value) : value);
    } else if (VALUE_OPTIONS.has(a) && i + 1 < argv.length) {
      const value = argv[++i];
      if (a === '-t' || a === '--time-limit') timeLimitMs = Number(value);
      args.push(a, value);
    } else if (!a.startsWith('-') && isFile(a)) {
      args.push(addFile(a));
    } else {
      args.push(a);
    }
  }
  return { message: { files, args, jsonStream, outputFiles }, hostOf, timeLimitMs };
}

// Mirror of the host path inside the worker's file system. The worker turns
// every file name into a `file:` URL before writing it, so use the name that
// normalisation produces, which then also matches the argument we pass.
function virtualName(abs) {
  const prefix = 'file://' + VFS_ROOT;
  const rel = abs.split(path.sep).filter(Boolean).join('/');
  return new URL(prefix + rel).href.substring(prefix.length);
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// ----- running ---------------------------------------------------------------

// V8's optimising tier compiles hot WebAssembly functions in the background;
// for the multi-megabyte MiniZinc module that work competes with the solver
// for the CPU and, measured on 2 cores, made short runs about twice as slow
// (flattening a trivial model: 1.1 s vs 0.5 s) without making long solves
// faster. Flags must be set before the module is compiled.
function applyV8Flags() {
  const flags = process.env.HADAC_MINIZINC_V8_FLAGS ?? '--liftoff-only';
  if (flags.trim()) require('node:v8').setFlagsFromString(flags);
}

function startWorker(pkg) {
  applyV8Flags();
  const worker = new Worker(__filename, { workerData: { workerScript: pkg.workerScript } });
  let ready;
  const readyPromise = new Promise((resolve) => (ready = resolve));
  let onMessage = null;
  let onDone = null;
  worker.on('message', (msg) => {
    if (msg && msg.type === 'ready' && ready) {
      const r = ready;
      ready = null;
      r();
    } else if (msg && msg.type === 'exit' && onDone) {
      const done = onDone;
      onDone = null;
      done.resolve(msg);
    } else if (onMessage) {
      onMessage(msg);
    }
  });
  const fail = (err) => {
    if (onDone) {
      const done = onDone;
      onDone = null;
      done.reject(err);
    }
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`MiniZinc worker thread ended (code ${code})`)));
  worker.postMessage({ wasmURL: pkg.wasm, dataURL: pkg.data });
  return {
    worker,
    // Runs one job; `relay` receives every streamed message.
    async run(message, relay) {
      await readyPromise;
      onMessage = relay;
      return new Promise((resolve, reject) => {
        onDone = { resolve, reject };
        worker.postMessage(message);
      });
    },
  };
}

async function runJob(pkg, job) {
  const { hostOf } = job;
  const toHost = (name) => {
    const vname = name.startsWith(VFS_ROOT) ? name.substring(VFS_ROOT.length) : name;
    return hostOf.get(vname) ?? name;
  };
  const fixText = (text) => {
    for (const [vname, host] of hostOf) text = text.split(VFS_ROOT + vname).join(host);
    return text;
  };
  const fixLocation = (obj) => {
    if (obj.location && typeof obj.location.filename === 'string') {
      obj.location.filename = toHost(obj.location.filename);
    }
  };

  let finished = false;
  let sawSolution = false;
  const runner = startWorker(pkg);

  const stop = (code, epilogue) => {
    if (finished) return;
    finished = true;
    if (epilogue) epilogue();
    // Terminating the thread interrupts the WebAssembly wherever it is; the
    // timer only guards against a terminate() that never settles.
    setTimeout(() => process.exit(code), 1000).unref();
    runner.worker.terminate().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => stop(130));
  process.on('SIGTERM', () => stop(143));
  process.stdout.on('error', (err) => stop(err.code === 'EPIPE' ? 141 : 1));

  // MiniZinc enforces --time-limit itself; this only catches a run that
  // overshoots it badly (e.g. a phase that does not check the clock). Like
  // native MiniZinc at its limit it ends with exit code 0, reporting UNKNOWN
  // if nothing was found.
  if (job.timeLimitMs > 0) {
    const grace = Math.max(3000, job.timeLimitMs * 0.1);
    setTimeout(() => {
      stop(0, () => {
        process.stderr.write('minizinc launcher: time limit exceeded, stopping the solver\n');
        if (job.message.jsonStream && !sawSolution) {
          process.stdout.write(JSON.stringify({ type: 'status', status: 'UNKNOWN' }) + '\n');
        }
      });
    }, job.timeLimitMs + grace).unref();
  }

  const relay = (msg) => {
    if (finished) return;
    if (msg && msg.type === 'stdout' && typeof msg.value === 'string') {
      process.stdout.write(fixText(msg.value));
    } else if (msg && msg.type === 'stderr' && typeof msg.value === 'string') {
      process.stderr.write(fixText(msg.value));
    } else {
      if (msg && typeof msg === 'object') {
        fixLocation(msg);
        if (Array.isArray(msg.stack)) msg.stack.forEach(fixLocation);
        if (msg.type === 'solution') sawSolution = true;
      }
      process.stdout.write(JSON.stringify(msg) + '\n');
    }
  };

  let result;
  try {
    result = await runner.run(job.message, relay);
  } catch (err) {
    // After stop() the thread's end is expected; stop() exits the process.
    if (finished) return;
    throw err;
  }
  if (finished) return;
  finished = true;
  if (result.stdout) process.stdout.write(fixText(result.stdout));
  if (result.stderr) process.stderr.write(fixText(result.stderr));
  if (result.message && result.code === -1) {
    process.stderr.write(`minizinc launcher: ${result.message}\n`);
  }
  for (const [vname, text] of Object.entries(result.outputFiles || {})) {
    if (text !== null) fs.writeFileSync(hostOf.get(vname), fixText(text));
  }
  await runner.worker.terminate();
  process.exitCode = result.code === -1 ? 1 : result.code;
}

// Entry point, after all declarations: this file is both the command and the
// worker thread's script.
if (isMainThread) {
  main().catch((err) => {
    const text = err instanceof LauncherError || !(err && err.stack) ? String(err.message || err) : err.stack;
    process.stderr.write(`minizinc launcher: ${text}\n`);
    process.exit(1);
  });
} else {
  runEmscriptenWorker(workerData);
}
