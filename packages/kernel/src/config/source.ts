import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

/** A parsed YAML text that remembers where every node came from. */
export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

export type KeyPath = readonly PropertyKey[];

export function readYaml(text: string, file = '<config>'): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { file, doc, lines };
}

/** 1-based line of a node, if it has a position. */
export function lineOfNode(src: YamlSource, node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range === undefined ? undefined : src.lines.linePos(range[0]).line;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * The line of `path` in the document: the line of the deepest key that exists
 * (for a missing key: the line of its parent; for the root: line 1).
 */
export function lineOf(src: YamlSource, path: KeyPath): number {
  let node: unknown = src.doc.contents;
  let line = lineOfNode(src, node) ?? 1;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair === undefined) break;
      line = lineOfNode(src, pair.key) ?? lineOfNode(src, pair.value) ?? line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      line = lineOfNode(src, item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** "general.port", "pools.appdb.users[0].username". */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Visit every scalar with its key path. */
export function eachScalar(src: YamlSource, fn: (node: Node & { value: unknown; type?: string | null }, path: PropertyKey[]) => void): void {
  const walk = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) walk(pair.value, [...path, keyText(pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node)) {
      fn(node as Node & { value: unknown; type?: string | null }, path);
    }
  };
  walk(src.doc.contents, []);
}
