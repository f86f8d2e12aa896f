import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type AccessControl, setupAccessControl } from '../auth/setup.js';
import type { CompiledServerOptions } from '../config/server-options.js';
import type { ChangeFeed } from '../control/change-feed.js';
import { InProcessChangeFeed } from '../control/in-process-feed.js';
import type { CleanupStack } from '../core/cleanup-stack.js';
import { EsbuildBuilder } from '../packages/builder.js';
import { FsPackageRepository } from '../packages/repository.js';
import { removeStaleRunDirs } from '../providers/local/run-dir.js';
import { SecretCipher } from '../secrets/cipher.js';
import { loadSecretsKey } from '../secrets/key.js';
import { prepareDataDir } from '../store/data-dir.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { LogFiles } from '../telemetry/log-files.js';
import { LogBuffer } from '../telemetry/logs.js';

/** What every role of a platform shares: its state, its change feed and its access control. */
export interface Foundation {
  store: Store;
  feed: ChangeFeed;
  access: AccessControl;
  cipher: SecretCipher;
  logs: LogBuffer;
  /** Uploaded packages, by sha256. */
  packages: FsPackageRepository;
  /** Builds of function versions (where instances load code from). */
  builder: EsbuildBuilder;
}

/**
 * Prepares the data directory and opens what every role reads: the store (SQLite), the change
 * feed (in-process), the secrets key, access control, the package repository, the builds and
 * the log buffer. Each step registers in
 * `started` how to undo it.
 */
export async function openFoundation(options: CompiledServerOptions, started: CleanupStack): Promise<Foundation> {
  const { dataDir, logger, clock, host } = options;
  const dataDirState = await prepareDataDir(dataDir);
  if (dataDirState.openToOthers !== undefined) {
    logger.warn({ dataDir, mode: dataDirState.openToOthers.toString(8) }, 'the data dir is open to other users (it holds every function\'s code and the store): chmod 700 it');
  }
  // Stale run directories of platforms that were killed (kill -9) hold sockets and code.
  await removeStaleRunDirs();
  // Uploads and builds interrupted by a crash leave work files here; nothing in it is referenced.
  await rm(join(dataDir, 'tmp'), { recursive: true, force: true });

  const secretsKey = await loadSecretsKey(dataDir);
  if (secretsKey.readableByOthers) logger.warn({ path: secretsKey.path }, 'the secrets key file is readable by other users; chmod 600 it');
  const store = await SqliteStore.open(dataDir, {
    checkpointOffLoop: { clock, onError: (message) => logger.warn({ file: 'nimbus.db', reason: message }, 'a WAL checkpoint failed; the next one tries again') },
  });
  started.defer(() => store.close());
  const feed = new InProcessChangeFeed();
  const access = await setupAccessControl({ auth: store.auth, feed, clock, dataDir, host, defaultAuth: options.defaultAuth });
  if (access.adminToken.exposed) logger.warn({ file: access.adminToken.path }, 'the admin token file is readable by other users: chmod 600 it');
  const packages = new FsPackageRepository(dataDir, options.packageLimits);
  const builder = new EsbuildBuilder(dataDir, packages);
  const logFiles = new LogFiles({
    dir: join(dataDir, 'logs'),
    retentionBytes: options.logRetentionBytes,
    clock,
    onError: (err) => logger.warn({ err }, 'function output could not be written to or removed from its log files'),
  });
  const logs = new LogBuffer({}, logFiles);
  started.defer(() => logs.close());
  return { store, feed, access, cipher: new SecretCipher(secretsKey.key), logs, packages, builder };
}
