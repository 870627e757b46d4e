// What the driver's log lines say about a lost connection. gRPC's own text for a master that does
// not answer ("No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:5051.
// Resolution note: ") is mostly wrapping; a framework author's logger gets the cause alone.

/** The cause in a gRPC connection error's text (`connect ECONNREFUSED 127.0.0.1:5051`), else the text as it is. */
export function plainReason(text: string): string {
  const last = /Last error: (?:Error: )?(.*?)\.?(?:\s*Resolution note:.*)?$/s.exec(text)?.[1];
  const cause = (last ?? text).replace(/^\d+ [A-Z_]+: /, '').trim();
  return cause === '' ? text : cause;
}
