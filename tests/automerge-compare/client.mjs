// Scenario 15 of jemput-bench (tests/src/bin/jemput-bench.rs): devices as automerge-repo apps
// build them, one Automerge document per record, syncing with the official sync server
// (@automerge/automerge-repo-sync-server, run unchanged). The benchmark drives the phases over
// standard input and output and counts the bytes on the wire with its own proxy.
//
//   node client.mjs push URL RECORDS.json   each inner array of RECORDS is one device; prints
//                                           "created", then on "stop" the document URLs (JSON)
//   node client.mjs store URL RECORDS.json DIR
//                                           one device creating a document per record, kept in
//                                           DIR (automerge-repo's file storage) and synced over
//                                           URL; prints "created", then on "stop" writes them
//                                           to DIR and prints the document URLs (JSON)
//   node client.mjs reopen URL DIR URLS.json
//                                           the same device started again: opens every
//                                           document from DIR and connects over URL (prints
//                                           "reopened" once it sent a sync message for each);
//                                           exits on "stop"
//   node client.mjs check URL URLS.json     a fresh device fetching every document; prints
//                                           "found N"
import fs from "node:fs"
import readline from "node:readline"
import { Repo } from "@automerge/automerge-repo"
import { BrowserWebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"

const lines = readline.createInterface({ input: process.stdin })
const waiting = []
lines.on("line", (l) => waiting.shift()?.(l.trim()))
const next = () => new Promise((resolve) => waiting.push(resolve))

function device(url, name, dir) {
  const adapter = new BrowserWebSocketClientAdapter(url)
  const storage = dir ? new NodeFSStorageAdapter(dir) : undefined
  const repo = new Repo({ network: [adapter], storage, peerId: name })
  return { repo, adapter }
}

async function connected(repo) {
  await repo.networkSubsystem.whenReady()
}

const [mode, ...args] = process.argv.slice(2)
if (mode === "push") {
  const [url, file] = args
  const perDevice = JSON.parse(fs.readFileSync(file, "utf8"))
  const devices = perDevice.map((_, i) => device(url, `hp-${i}`))
  await Promise.all(devices.map((d) => connected(d.repo)))
  const urls = []
  perDevice.forEach((records, i) => {
    for (const r of records) urls.push(devices[i].repo.create(r).url)
  })
  console.log("created")
  await next()
  console.log(JSON.stringify(urls))
  process.exit(0)
} else if (mode === "store") {
  const [url, file, dir] = args
  const records = JSON.parse(fs.readFileSync(file, "utf8"))
  const d = device(url, "hp-idle", dir)
  await connected(d.repo)
  const urls = records.map((r) => d.repo.create(r).url)
  console.log("created")
  await next()
  await d.repo.flush()
  console.log(JSON.stringify(urls))
  process.exit(0)
} else if (mode === "reopen") {
  const [url, dir, file] = args
  const urls = JSON.parse(fs.readFileSync(file, "utf8"))
  const d = device(url, "hp-idle", dir)
  // Counts the sync messages the device sends, to tell the benchmark when every document has
  // started syncing (opening 1,000 documents from storage takes longer than a quiet wire).
  let messages = 0
  const send = d.adapter.send.bind(d.adapter)
  d.adapter.send = (m) => {
    if (m.type === "sync") messages++
    return send(m)
  }
  await connected(d.repo)
  await Promise.all(urls.map((u) => d.repo.find(u).doc()))
  for (let i = 0; i < 1200 && messages < urls.length; i++) await new Promise((r) => setTimeout(r, 50))
  console.log("reopened")
  await next()
  process.exit(0)
} else if (mode === "check") {
  const [url, file] = args
  const urls = JSON.parse(fs.readFileSync(file, "utf8"))
  const d = device(url, "hp-check")
  await connected(d.repo)
  let found = 0
  for (const u of urls) {
    const doc = await d.repo.find(u).doc()
    if (doc && doc.id) found++
  }
  console.log(`found ${found}`)
  process.exit(0)
} else {
  console.error("usage: node client.mjs push|idle|check …")
  process.exit(2)
}
