/**
 * Throw-away TLS material for tests, made with the `openssl` CLI: a CA, a
 * server certificate whose subjectAltName lists every DNS name and IP given,
 * and optional client certificates, all signed by the CA (ECDSA P-256, valid
 * for two days, v3 extensions that rustls, Go and OpenSSL all accept).
 *
 * @module
 */

/** Options for {@linkcode makeCerts}. */
export interface CertOptions {
  /** Where to write the files; a new temp dir (removed by `cleanup`) when omitted. */
  dir?: string;
  /** DNS names for the server certificate's subjectAltName. */
  serverNames: string[];
  /** IP addresses for the server certificate's subjectAltName. */
  serverIps: string[];
  /** Common names of client certificates to make (for mutual TLS). */
  clients?: string[];
}

/** The files {@linkcode makeCerts} wrote (all PEM). */
export interface Certs {
  /** The dir holding them. */
  dir: string;
  /** The CA certificate (trust anchor for both sides). */
  caCert: string;
  /** The server certificate. */
  serverCert: string;
  /** The server's private key. */
  serverKey: string;
  /** The certificate of the client with this CN (throws for names not asked for). */
  clientCert(name: string): string;
  /** The private key of the client with this CN. */
  clientKey(name: string): string;
  /** Removes the files (and the dir when `makeCerts` created it). */
  cleanup(): Promise<void>;
}

/** Runs `openssl args…` in `cwd`; throws with its stderr on failure. */
async function openssl(cwd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** A random positive certificate serial number in hex. */
function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  return "0x" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes a key + CSR for `cn`, then has the CA sign it with extensions `ext`. */
async function issue(dir: string, base: string, cn: string, ext: string[]): Promise<void> {
  const subject = `/CN=${cn.replaceAll("/", "\\/")}`;
  await openssl(dir, [
    "req",
    "-new",
    ...EC,
    "-keyout",
    `${base}.key`,
    "-out",
    `${base}.csr`,
    "-subj",
    subject,
  ]);
  await Deno.writeTextFile(`${dir}/${base}.ext`, ext.join("\n") + "\n");
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${base}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-set_serial",
    serial(),
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${base}.ext`,
    "-out",
    `${base}.pem`,
  ]); // deno-fmt-ignore
  await Deno.remove(`${dir}/${base}.csr`);
  await Deno.remove(`${dir}/${base}.ext`);
}

/**
 * Writes a CA, a server certificate for `serverNames` + `serverIps`, and one
 * client certificate per entry of `clients`; resolves their paths.
 *
 * @example
 * ```ts ignore
 * const certs = await makeCerts({ serverNames: ["localhost"], serverIps: ["127.0.0.1"] });
 * const tls = `tls {\n cert_file: "${certs.serverCert}"\n key_file: "${certs.serverKey}"\n}`;
 * await certs.cleanup();
 * ```
 */
export async function makeCerts(opts: CertOptions): Promise<Certs> {
  const own = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "saltbus-tls-" });
  if (!own) await Deno.mkdir(dir, { recursive: true });
  const clients = opts.clients ?? [];
  const files = ["ca.pem", "ca.key", "server.pem", "server.key"];
  clients.forEach((_, i) => files.push(`client${i}.pem`, `client${i}.key`));
  const cleanup = async () => {
    if (own) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    } else {
      for (const f of files) await Deno.remove(`${dir}/${f}`).catch(() => {});
    }
  };
  try {
    await openssl(dir, [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-sha256",
      "-set_serial",
      serial(),
      "-subj",
      "/CN=saltbus test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-addext",
      "subjectKeyIdentifier=hash",
    ]); // deno-fmt-ignore
    const san = [
      ...opts.serverNames.map((n) => `DNS:${n}`),
      ...opts.serverIps.map((a) => `IP:${a}`),
    ];
    if (san.length === 0) throw new Error("makeCerts: give at least one server name or IP");
    const common = [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "subjectKeyIdentifier=hash",
      "authorityKeyIdentifier=keyid",
    ];
    await issue(dir, "server", opts.serverNames[0] ?? opts.serverIps[0], [
      ...common,
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${san.join(",")}`,
    ]);
    for (const [i, cn] of clients.entries()) {
      await issue(dir, `client${i}`, cn, [...common, "extendedKeyUsage=clientAuth"]);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  const client = (name: string, ext: string) => {
    const i = clients.indexOf(name);
    if (i < 0) throw new Error(`no client certificate for ${JSON.stringify(name)}`);
    return `${dir}/client${i}.${ext}`;
  };
  return {
    dir,
    caCert: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: (name) => client(name, "pem"),
    clientKey: (name) => client(name, "key"),
    cleanup,
  };
}
