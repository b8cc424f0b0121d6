// Upstream's `$(VAR)` expansion for env values, command and args (third_party/forked/golang/expansion).

/** A lookup over several maps in order; an unknown name expands to itself, `$(NAME)`, as upstream. */
export function mappingFuncFor(...contexts: ReadonlyMap<string, string>[]): (name: string) => string {
  return (name) => {
    for (const vars of contexts) {
      const v = vars.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

/** `$(VAR)` → mapping(VAR); `$$` → `$`; any other `$` and an unclosed `$(` are kept as they are. */
export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let read: string;
    let isVar = false;
    let advance = 1;
    if (rest[0] === '$') read = '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close > 0) {
        read = rest.slice(1, close);
        isVar = true;
        advance = close + 1;
      } else read = '$(';
    } else read = `$${rest[0]}`;
    out += isVar ? mapping(read) : read;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
