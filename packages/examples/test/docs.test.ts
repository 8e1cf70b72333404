/**
 * The ```ts blocks of the docs compile. A page opts in with the line `<!-- docs-typecheck -->`
 * (older pages hold fragments that are not whole modules); each block of such a page is then
 * type-checked as its own module, as if it sat in this package (so it imports `effect`,
 * `@effect-mode/core`, `@effect-mode/node` and `@effect/vitest` like user code), with the
 * repository's compiler options (unused names allowed: snippets declare things to show them).
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..", "..")
const docsDir = join(root, "docs")

const pages = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? pages(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : []
  )

interface Block {
  readonly page: string
  readonly line: number
  readonly code: string
}

/** The marker of a page whose blocks are checked. */
const marker = "<!-- docs-typecheck -->"

const blocksOf = (page: string): Array<Block> => {
  const text = readFileSync(page, "utf8")
  if (!text.includes(marker)) return []
  const lines = text.split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end]!.trim() !== "```") end++
    blocks.push({ page: relative(root, page), line: start + 1, code: lines.slice(start, end).join("\n") })
    i = end
  }
  return blocks
}

const compilerOptions = (): ts.CompilerOptions => {
  const base = ts.readConfigFile(join(root, "tsconfig.base.json"), ts.sys.readFile).config
  const { options } = ts.convertCompilerOptionsFromJson(base.compilerOptions, root)
  return {
    ...options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    emitDeclarationOnly: false,
    incremental: false,
    noUnusedLocals: false,
    noUnusedParameters: false
  }
}

/** Type-checks every block; returns "page:line: message" for each error in a block. */
const check = (blocks: ReadonlyArray<Block>): Array<string> => {
  const options = compilerOptions()
  const virtual = new Map(blocks.map((b, i) => [join(here, "..", "src", `__doc${i}.ts`), b]))
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version, onError, create) => {
    const block = virtual.get(name)
    return block === undefined
      ? getSourceFile(name, version, onError, create)
      : ts.createSourceFile(name, block.code, version, true)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => virtual.has(name) || fileExists(name)
  const program = ts.createProgram([...virtual.keys()], options, host)
  const errors: Array<string> = []
  for (const [name, block] of virtual) {
    const file = program.getSourceFile(name)!
    for (const d of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
      const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0)
      errors.push(`${block.page}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`)
    }
  }
  return errors
}

describe("docs", () => {
  it(`every \`\`\`ts block of the pages under docs/ marked ${marker} compiles (and a broken one is reported)`, () => {
    const blocks = pages(docsDir).flatMap(blocksOf)
    expect(blocks.length).toBeGreaterThan(3)
    // a block with a type error, checked in the same program, so the check is known to work
    const broken: Block = { page: "docs/broken.md", line: 10, code: "import { Effect } from \"effect\"\nconst n: number = Effect.void" }
    const errors = check([...blocks, broken])
    expect(errors.filter((e) => !e.startsWith(broken.page))).toEqual([])
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^docs\/broken\.md:11: Type 'Effect<void/)
  }, 120_000)
})
