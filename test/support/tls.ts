import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a throw-away test CA, a broker certificate it signed and a client certificate. */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  /** For 127.0.0.1 and localhost. */
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** A CA nobody used: a client trusting only it must refuse the broker. */
  readonly otherCa: string;
  remove(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A self-signed CA (`name`.key, `name`.pem) in `dir`. */
function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]),
  );
}

/** A key and a certificate signed by the CA `ca`, with the given subjectAltName extension. */
async function makeLeaf(dir: string, name: string, ca: string, extension: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), `${extension}\n`);
  openssl(
    dir,
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ]),
  );
  openssl(
    dir,
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`].concat([
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]),
  );
}

/** Generates the PKI with the `openssl` command in a new temporary directory. */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other');
  await makeLeaf(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  await makeLeaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth');
  const read = (file: string) => readFile(join(dir, file), 'utf8');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: await read('ca.pem'),
    serverKey: await read('server.key'),
    serverCert: await read('server.pem'),
    clientKey: await read('client.key'),
    clientCert: await read('client.pem'),
    otherCa: await read('other.pem'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
