/**
 * The exact `local.json` changes the fixes ask for, as JSON text to merge into
 * `/etc/onlyoffice/documentserver/local.json` (keys as in DocService's `Common/config/default.json`; captured
 * effects in shared/fixtures/onlyoffice/README.md, cluster guide in shared/seeds/000_*). Secrets are never filled
 * in: the snippets name the setting that holds them.
 */
import { LOCAL_JSON, RESTART_DS, SETTING } from './ChecksConfig.js';

const json = (value: unknown): string => JSON.stringify(value, null, 2);

/** The `local.json` part of {@link wopiEnableFix} alone (JSON text). */
export function wopiEnableSnippet(): string {
  return json({ wopi: { enable: true } });
}

/** `wopi.enable: true` (DS default false; off → every `/hosting/*` route answers 404). */
export function wopiEnableFix(): string {
  return (
    `Turn WOPI on in DocumentServer: merge into ${LOCAL_JSON}\n` +
    `${wopiEnableSnippet()}\n` +
    `(with the Docker image, starting the container with -e WOPI_ENABLED=true does the same), ${RESTART_DS}.`
  );
}

/**
 * Allow the bridge through DS's ipfilter. The key lives under `services.CoAuthoring` — a top-level `"ipfilter"`,
 * as some guides show (the cluster guide in shared/seeds does), is ignored by DS. Rules are tried in order and
 * the first match decides; node-config replaces arrays as a whole, so the existing rules must be repeated.
 * @param bridgeAddress - the address the bridge connected from, if known
 */
export function ipfilterFix(bridgeAddress: string | undefined): string {
  const seen = bridgeAddress
    ? `The bridge connected from ${bridgeAddress}; if NAT or a proxy sits between the two, use the address DS sees instead. `
    : '';
  return (
    `${seen}Allow that address in DocumentServer's ipfilter: in ${LOCAL_JSON} put this rule first in ` +
    `services.CoAuthoring.ipfilter.rules (the first matching rule decides; the list replaces the default one as a whole, ` +
    `so keep your other rules after it — the "*" rule below is the cluster guide's allow-all):\n` +
    ipfilterSnippet(bridgeAddress) +
    `\nA top-level "ipfilter" key (as some guides write it) is ignored: it must sit under services.CoAuthoring. ${cap(RESTART_DS)}.`
  );
}

/**
 * The `local.json` part of {@link ipfilterFix} alone (JSON text).
 * @param bridgeAddress - the address the bridge connected from, if known
 */
export function ipfilterSnippet(bridgeAddress: string | undefined): string {
  const address = bridgeAddress ?? '<the bridge\'s IP address as DS sees it>';
  return json({
    services: {
      CoAuthoring: {
        ipfilter: {
          rules: [
            { address, allowed: true },
            { address: '*', allowed: true },
          ],
          useforrequest: true,
          errorcode: 403,
        },
      },
    },
  });
}

/** Turn on inbox/outbox/browser tokens with the bridge's secret (DS ≥ 7.2 does this by default with its own secret). */
export function jwtEnableFix(): string {
  const secret = `<the value of ${SETTING.jwtSecret}>`;
  return (
    `Make DocumentServer require tokens with the bridge's secret: merge into ${LOCAL_JSON}\n` +
    json({
      services: {
        CoAuthoring: {
          token: { enable: { browser: true, request: { inbox: true, outbox: true } } },
          secret: { inbox: { string: secret }, outbox: { string: secret }, browser: { string: secret } },
        },
      },
    }) +
    `\n(with the Docker image, -e JWT_ENABLED=true -e JWT_SECRET=… does the same), ${RESTART_DS}. ` +
    `If ${SETTING.jwtSecret} is not set yet, generate a secret with \`openssl rand -hex 32\` and set it in both places.`
  );
}

/** How to read the secret DS uses (the Docker image generates one since 7.2). */
export function readDsSecretHint(): string {
  return (
    `DS's secret is services.CoAuthoring.secret.inbox.string in ${LOCAL_JSON}; in the Docker image: ` +
    `\`docker exec <ds-container> /var/www/onlyoffice/documentserver/npm/json -f ${LOCAL_JSON} 'services.CoAuthoring.secret.inbox.string'\``
  );
}

/** Make DS read the inbox token from the bridge's header. */
export function inboxHeaderFix(header: string): string {
  return (
    `Make both sides use the same header. Either set ${SETTING.jwtHeader} to the header DS reads ` +
    `(services.CoAuthoring.token.inbox.header in ${LOCAL_JSON}, JWT_HEADER in the Docker image), or set DS's to "${header}" ` +
    `(keep outbox the same, the bridge reads DS's downloads and callbacks from it):\n` +
    json({ services: { CoAuthoring: { token: { inbox: { header }, outbox: { header } } } } }) +
    `\n${cap(RESTART_DS)}. If both already say "${header}", a reverse proxy in front of DS drops that header: ` +
    `make it pass the header through (Apache: \`SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1\`; or use a custom ` +
    `name such as AuthorizationJwt on both sides).`
  );
}

/**
 * Generate and publish WOPI proof keys, the way the official Docker image does (openssl, MS PUBLICKEYBLOB).
 * @param cluster - also say that every node needs the same keys
 */
export function proofKeysFix(cluster: boolean): string {
  const lines = [
    'Generate a key pair on the DS host (xxd comes with the xxd or vim-common package):',
    proofKeysCommands(),
    `then merge the "wopi" object of wopi-keys.json into ${LOCAL_JSON} (the *Old keys equal the new ones the first time ` +
      'and hold the previous key after a rotation), ' + RESTART_DS + '; /hosting/discovery then lists <proof-key>.',
  ];
  if (cluster) lines.push('Copy the same wopi.* values to every node of the cluster: a node with its own keys signs requests the bridge cannot verify.');
  return lines.join('\n');
}

/** The shell commands of {@link proofKeysFix} alone: generate a key pair and write wopi-keys.json. */
export function proofKeysCommands(): string {
  const keys = json({
    wopi: {
      privateKey: '$PRIV',
      publicKey: '$PUB',
      modulus: '$MOD',
      exponent: 65537,
      privateKeyOld: '$PRIV',
      publicKeyOld: '$PUB',
      modulusOld: '$MOD',
      exponentOld: 65537,
    },
  });
  return [
    'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wopi.pem',
    'openssl rsa -in wopi.pem -RSAPublicKey_out -outform "MS PUBLICKEYBLOB" -out wopi.blob',
    'PRIV=$(awk \'{printf "%s\\\\n", $0}\' wopi.pem)',
    'PUB=$(base64 -w0 wopi.blob)',
    'MOD=$(openssl rsa -in wopi.pem -noout -modulus | cut -d= -f2 | xxd -r -p | base64 -w0)',
    'cat > wopi-keys.json <<EOF',
    keys,
    'EOF',
  ].join('\n');
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
