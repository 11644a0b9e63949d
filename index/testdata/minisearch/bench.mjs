// MiniSearch on the same articles and questions as impbot's
// BenchmarkDevQuestions (index/minisearch_test.go), for issue #16.
//
//   cd index && IMPBOT_EXPORT_MINISEARCH=1 go test -run ExportMiniSearch .
//   cd testdata/minisearch && npm ci && node bench.mjs
//
// At size (the Go side is BenchmarkSynthSearch10k and BenchmarkSynthBuild10k):
//
//   cd index && IMPBOT_EXPORT_MINISEARCH=1 IMPBOT_MINISEARCH_SYNTH=10000 go test -run ExportMiniSearch .
//   cd testdata/minisearch && CORPUS=corpus-synth10000.json REPS=2 node bench.mjs
//
// It indexes the shipped English articles (title, summary, questions,
// keywords, body, with impbot's field boosts) and times the questions of
// cmd/impbot/testdata/dev.jsonl, exact and fuzzy (fuzzy: 0.2, prefix: true):
// each round asks every question `reps` times; it prints µs per query of
// each round and their median, and the p50/p99 of single queries.
import { readFileSync } from 'node:fs'
import MiniSearch from 'minisearch'

const corpus = JSON.parse(readFileSync(new URL('./' + (process.env.CORPUS || 'corpus.json'), import.meta.url)))
const rounds = Number(process.env.ROUNDS || 7)
const reps = Number(process.env.REPS || 20)

const t0 = process.hrtime.bigint()
const ms = new MiniSearch({
  fields: ['title', 'summary', 'questions', 'keywords', 'body'],
  storeFields: ['id'],
})
ms.addAll(corpus.articles)
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6

const boost = { title: 3, questions: 3, keywords: 2.5, summary: 1.5, body: 1 }
const modes = {
  exact: { boost },
  fuzzy: { boost, fuzzy: 0.2, prefix: true },
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

console.log(`minisearch: ${corpus.articles.length} articles indexed in ${buildMs.toFixed(1)} ms; ${corpus.questions.length} questions, ${rounds} rounds of ${reps} passes`)
for (const [name, opts] of Object.entries(modes)) {
  // warm up
  for (const q of corpus.questions) ms.search(q, opts)
  const perRound = []
  const single = []
  let found = 0
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint()
    for (let k = 0; k < reps; k++) {
      for (const q of corpus.questions) {
        const s = process.hrtime.bigint()
        const res = ms.search(q, opts)
        single.push(Number(process.hrtime.bigint() - s) / 1e3)
        if (r === 0 && k === 0 && res.length > 0) found++
      }
    }
    perRound.push(Number(process.hrtime.bigint() - start) / 1e3 / (reps * corpus.questions.length))
  }
  single.sort((a, b) => a - b)
  console.log(`${name}: ${median(perRound).toFixed(1)} µs/query (median of ${rounds} rounds: ${perRound.map((x) => x.toFixed(1)).join(' ')}); single queries p50 ${single[Math.floor(single.length / 2)].toFixed(1)} µs, p99 ${single[Math.floor(single.length * 0.99)].toFixed(1)} µs; ${found}/${corpus.questions.length} questions with a hit`)
}
