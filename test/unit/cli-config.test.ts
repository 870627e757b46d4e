// How the CLI chooses its master and credentials (cli/config.ts): each value by flag, then
// environment, then the context, then the default; and the config file's validation.
import { describe, expect, it } from 'vitest';
import { chooseSettings, describeCredential, loadConnection, type ClientSettings } from '../../cli/config.js';
import { parseConfig, type ConfigFile } from '../../cli/config-file.js';
import { mergeContext } from '../../cli/commands/config.js';
import { newToken } from '../../core/security/tokens.js';
import { thrown } from '../support/thrown.js';

const FILE = '/home/me/.agora/config.yaml';
const T_FLAG = newToken().token;
const T_ENV = newToken().token;
const T_CTX = newToken().token;

const config: ConfigFile = {
  path: FILE,
  currentContext: 'prod',
  contexts: {
    prod: { master: 'https://prod:5050', api: 'https://prod-api:5060', tokenFile: '/secrets/prod-token', ca: '/secrets/prod-ca.pem' },
    dev: { master: 'dev:5050', token: T_CTX, insecure: true },
    lab: { master: 'https://lab:5050', token: T_CTX },
  },
};
const none: ConfigFile = { path: FILE, contexts: {} };

const pick = (s: ClientSettings): Record<string, unknown> => ({
  context: s.context?.value,
  master: s.master.value,
  masterFrom: s.master.from,
  api: s.api?.value,
  token: s.token?.value,
  tokenFrom: s.token?.from,
  ca: s.ca?.value,
  caFrom: s.ca?.from,
  insecure: s.insecure.value,
});

describe('client settings: flag > environment > context > default', () => {
  it('defaults to https://localhost:5050, the system CAs and no token when nothing is given', () => {
    const s = chooseSettings({}, {}, none);
    expect(pick(s)).toEqual({ context: undefined, master: 'localhost:5050', masterFrom: 'default', api: undefined, token: undefined, tokenFrom: undefined, ca: undefined, caFrom: undefined, insecure: false });
    expect(describeCredential(s)).toMatch(/^no token \(none given with --token or \$AGORA_TOKEN, and no context is selected in \/home\/me\/\.agora\/config\.yaml\)$/);
  });

  it('takes every value from the current context when no flag or variable gives it', () => {
    const s = chooseSettings({}, {}, config);
    expect(pick(s)).toEqual({
      context: 'prod',
      master: 'https://prod:5050',
      masterFrom: 'context "prod"',
      api: 'https://prod-api:5060',
      token: { file: '/secrets/prod-token' },
      tokenFrom: 'context "prod"',
      ca: '/secrets/prod-ca.pem',
      caFrom: 'context "prod"',
      insecure: false,
    });
    expect(s.context?.from).toBe(`currentContext in ${FILE}`);
    expect(describeCredential(s)).toBe('the token file /secrets/prod-token of context "prod"');
  });

  it('lets the environment override the context, value by value', () => {
    const s = chooseSettings({}, { AGORA_MASTER: 'https://env:1', AGORA_TOKEN: T_ENV }, config);
    expect(pick(s)).toMatchObject({ master: 'https://env:1', masterFrom: '$AGORA_MASTER', token: { token: T_ENV }, tokenFrom: '$AGORA_TOKEN', ca: '/secrets/prod-ca.pem', caFrom: 'context "prod"', api: 'https://prod-api:5060' });
    expect(describeCredential(s)).toBe('the token in $AGORA_TOKEN');
  });

  it('lets flags override the environment and the context', () => {
    const env = { AGORA_MASTER: 'https://env:1', AGORA_TOKEN: T_ENV, AGORA_CA: '/env/ca.pem', AGORA_API: 'https://env-api:2' };
    const s = chooseSettings({ master: 'https://flag:3', token: T_FLAG, ca: '/flag/ca.pem', api: 'https://flag-api:4' }, env, config);
    expect(pick(s)).toMatchObject({ master: 'https://flag:3', masterFrom: '--master', token: { token: T_FLAG }, tokenFrom: '--token', ca: '/flag/ca.pem', caFrom: '--ca', api: 'https://flag-api:4' });
    expect(describeCredential(s)).toBe('the token given with --token');
  });

  it('treats an empty variable as unset', () => {
    const s = chooseSettings({}, { AGORA_MASTER: '', AGORA_TOKEN: '', AGORA_CONTEXT: '' }, config);
    expect(pick(s)).toMatchObject({ context: 'prod', master: 'https://prod:5050', tokenFrom: 'context "prod"' });
  });

  it('chooses the context by --context, then $AGORA_CONTEXT, then currentContext', () => {
    expect(chooseSettings({}, { AGORA_CONTEXT: 'lab' }, config).context).toEqual({ value: 'lab', from: '$AGORA_CONTEXT' });
    expect(chooseSettings({ context: 'dev' }, { AGORA_CONTEXT: 'lab' }, config).context).toEqual({ value: 'dev', from: '--context' });
    const lab = chooseSettings({ context: 'lab' }, {}, config);
    expect(pick(lab)).toMatchObject({ master: 'https://lab:5050', token: { token: T_CTX }, ca: undefined });
    expect(describeCredential(lab)).toBe(`the token of context "lab" (in ${FILE})`);
  });

  it('refuses an unknown context, naming where the name came from and the known ones', () => {
    const flag = thrown(() => chooseSettings({ context: 'nope' }, {}, config));
    expect(flag.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(flag.field).toBe('--context');
    expect(flag.message).toContain('known: prod, dev, lab');
    expect(thrown(() => chooseSettings({}, { AGORA_CONTEXT: 'nope' }, config)).field).toBe('$AGORA_CONTEXT');
  });

  it('sends no token at all when insecure, from the flag or the context', () => {
    const dev = chooseSettings({ context: 'dev' }, { AGORA_TOKEN: T_ENV }, config);
    expect(pick(dev)).toMatchObject({ master: 'dev:5050', insecure: true, token: undefined });
    expect(describeCredential(dev)).toBe('no token (insecure, from context "dev")');
    const flag = chooseSettings({ insecure: true, token: T_FLAG }, {}, config);
    expect(pick(flag)).toMatchObject({ insecure: true, token: undefined });
  });

  it('refuses a master that is not a URL or host:port, naming the variable', () => {
    const err = thrown(() => chooseSettings({}, { AGORA_MASTER: 'ftp://x' }, none));
    expect(err.field).toBe('$AGORA_MASTER');
    expect(thrown(() => chooseSettings({ master: 'http://[bad' }, {}, none)).field).toBe('--master');
  });
});

describe('config file', () => {
  it('reads contexts, resolving relative paths against the file', () => {
    const c = parseConfig(['currentContext: up', 'contexts:', '  up:', '    master: https://127.0.0.1:5050', '    tokenFile: up/admin-token', '    ca: /abs/ca.pem', ''].join('\n'), FILE);
    expect(c).toEqual({ path: FILE, currentContext: 'up', contexts: { up: { master: 'https://127.0.0.1:5050', tokenFile: '/home/me/.agora/up/admin-token', ca: '/abs/ca.pem' } } });
    expect(parseConfig('', FILE)).toEqual({ path: FILE, contexts: {} });
  });

  it('names the file and the field at fault', () => {
    const cases: [string, string][] = [
      ['contexts:\n  a: { master: x:1, tokn: y }\n', 'contexts.a.tokn'],
      ['contexts:\n  a: { api: x:1 }\n', 'contexts.a.master'],
      ['contexts:\n  a: { master: x:1, insecure: "yes" }\n', 'contexts.a.insecure'],
      ['contexts:\n  a: { master: "ftp://x" }\n', 'contexts.a.master'],
      ['contexts:\n  a: { master: x:1, token: nope }\n', 'contexts.a.token'],
      [`contexts:\n  a: { master: x:1, token: ${T_CTX}, tokenFile: /t }\n`, 'contexts.a.tokenFile'],
      ['currentContext: b\ncontexts:\n  a: { master: x:1 }\n', 'currentContext'],
      ['contexts: [a]\n', 'contexts'],
      ['context: {}\n', 'context'],
      ['contexts: {\n', 'line 2'],
    ];
    for (const [text, field] of cases) {
      const err = thrown(() => parseConfig(text, FILE));
      expect(err.code, text).toBe('AGORA_INVALID_ARGUMENT');
      expect(err.field, text).toBe(field);
      expect(err.message, text).toMatch(new RegExp(`^${FILE.replace(/\./g, '\\.')}: ${field.replace(/\./g, '\\.')}: `));
    }
  });

  it('never repeats a bad token in its message', () => {
    const secret = `agora_0123456789abcdef_${'x'.repeat(64)}`;
    const err = thrown(() => parseConfig(`contexts:\n  a: { master: x:1, token: ${secret} }\n`, FILE));
    expect(err.message).not.toContain('x'.repeat(64));
    const flag = thrown(() => loadConnection(chooseSettings({ token: secret }, {}, none)));
    expect(flag.field).toBe('--token');
    expect(flag.message).not.toContain('x'.repeat(64));
  });
});

describe('the connection', () => {
  it('gives bare addresses https, or http when insecure, and keeps the token only when secure', () => {
    expect(loadConnection(chooseSettings({ token: T_FLAG }, {}, none))).toMatchObject({ master: 'https://localhost:5050', token: T_FLAG, insecure: false });
    const dev = loadConnection(chooseSettings({ context: 'dev' }, {}, config));
    expect(dev).toMatchObject({ master: 'http://dev:5050', insecure: true, context: 'dev' });
    expect(dev.token).toBeUndefined();
  });
});

describe('set-context', () => {
  it('needs --master for a new context, and changes only the fields given of an existing one', () => {
    expect(thrown(() => mergeContext(undefined, { tokenFile: '/t' })).field).toBe('--master');
    const had = { master: 'https://a:1', token: T_CTX, ca: '/ca.pem', api: 'https://api:2' };
    expect(mergeContext(had, { tokenFile: '/t' })).toEqual({ master: 'https://a:1', tokenFile: '/t', ca: '/ca.pem', api: 'https://api:2' });
    expect(mergeContext(had, { api: '', insecure: true })).toEqual({ master: 'https://a:1', token: T_CTX, ca: '/ca.pem', insecure: true });
    expect(mergeContext({ master: 'x:1', insecure: true }, { insecure: false })).toEqual({ master: 'x:1' });
  });
});
