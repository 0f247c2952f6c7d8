/**
 * `wopi-bridge token <path>`: WOPISrc, access_token and access_token_ttl for a file, to reproduce a WOPI call
 * with curl. The only command that prints an access token: that is its purpose.
 */
import type { Command } from '../cli/command.js';
import { parse } from '../cli/args.js';
import { EXIT, UsageError } from '../cli/exitCodes.js';
import { jsonText } from '../cli/output.js';
import { checkUserName, cliLogger, issueFileToken, loadCliConfig } from '../cli/runtime.js';

export const tokenCommand: Command = {
  name: 'token',
  synopsis: ['token <path> [--user NAME] [--view] [--json]'],
  summary: 'Print WOPISrc, access_token and access_token_ttl for a file on the configured drive, to reproduce a WOPI call with curl.',
  help: `Options:
  --user NAME   user the token is issued to (default: admin)
  --view        a view-only token (no Lock/PutFile)
  --json        one JSON document on stdout

Exit codes: 0 printed, 1 no such file on the drive (or a folder), 3 usage or configuration error.

Examples:
  wopi-bridge token /Welcome.docx
  wopi-bridge token "/Team/Q3 report.xlsx" --user alice --json
`,
  // Kept from the first CLI: any failure is exit 1 here.
  failureExit: EXIT.WARNING,
  unexpectedExit: EXIT.WARNING,
  async run(args, cli) {
    const { values, positionals } = parse(args, { user: { type: 'string' }, view: { type: 'boolean' }, json: { type: 'boolean' } }, { min: 1, max: 1, usage: 'token needs exactly one path, e.g. wopi-bridge token /Welcome.docx' });
    const user = values.user ?? 'admin';
    if (!checkUserName(user)) throw new UsageError('--user must be 1 to 100 printable characters');

    const { config } = await loadCliConfig(cli);
    const log = cliLogger(config);
    const t = await issueFileToken(config, log, positionals[0] as string, { user, canWrite: !values.view });
    const wopiSrc = `${config.publicUrl}/wopi/files/${t.fileId}`;
    if (values.json) {
      cli.out(jsonText({ path: t.path, fileId: t.fileId, wopiSrc, accessToken: t.token, accessTokenTtl: t.accessTokenTtl, user, canWrite: t.canWrite }));
    } else {
      cli.out(
        [
          `file:             ${t.path}`,
          `file id:          ${t.fileId}`,
          `WOPISrc:          ${wopiSrc}`,
          `access_token:     ${t.token}`,
          `access_token_ttl: ${t.accessTokenTtl}  (expires ${new Date(t.accessTokenTtl).toISOString()})`,
          `user:             ${user} (${t.canWrite ? 'can edit' : 'view only'})`,
          '',
          'CheckFileInfo:',
          `  curl -s '${wopiSrc}?access_token=${t.token}'`,
          '',
        ].join('\n'),
      );
    }
    return EXIT.OK;
  },
};
