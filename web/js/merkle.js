// merkle.js: RFC 9162 §2.1 Merkle tree hashing and proof verification (SHA-256, 0x00 leaf
// and 0x01 node prefixes; core/primitives/merkle.c is the C side). Sizes and indices may be
// Numbers or BigInts: the official vectors carry 2^64 − 1, which a Number cannot hold.
// A verifier returns false for anything wrong (a hash not 32 bytes, a proof too long...).

import { concat, equal, sha256 } from './bytes.js';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

export async function leafHash(entry) {
  return sha256(concat(LEAF, entry));
}

export async function nodeHash(left, right) {
  return sha256(concat(NODE, left, right));
}

// A size or index as a BigInt, or null when it is not a non-negative integer.
function big(n) {
  if (typeof n === 'bigint') return n >= 0n ? n : null;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return BigInt(n);
  return null;
}

const is32 = (h) => h instanceof Uint8Array && h.length === 32;

// RFC 9162 §2.1.3.2.
export async function verifyInclusion(index, size, leaf, proof, root) {
  const fn0 = big(index), n = big(size);
  proof = proof ?? [];
  if (fn0 === null || n === null || fn0 >= n) return false;
  if (!is32(leaf) || !is32(root) || !proof.every(is32)) return false;
  let fn = fn0, sn = n - 1n, r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while (fn !== 0n && (fn & 1n) === 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

// RFC 9162 §2.1.4.2, returning which side failed, so that a caller holding a verified new
// root can tell a bad proof (the new root is not reproduced: "bad_new") from a fork (the new
// root is reproduced, the old one is not: "bad_old"). "ok", or "malformed" for bad input.
export async function checkConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const m = big(oldSize), n = big(newSize);
  proof = proof ?? [];
  if (m === null || n === null) return 'malformed';
  if (!is32(oldRoot) || !is32(newRoot) || !proof.every(is32)) return 'malformed';
  // Size 0 is refused as the official vectors (transparency-dev) do: callers that allow an
  // empty old tree (a history's first checkpoint) special-case it before.
  if (m === 0n || m > n) return 'malformed';
  if (m === n) {
    if (proof.length !== 0) return 'malformed';
    return equal(oldRoot, newRoot) ? 'ok' : 'bad_old';
  }
  if (proof.length === 0) return 'malformed';
  let c = proof;
  if ((m & (m - 1n)) === 0n) c = [oldRoot, ...proof];
  let fn = m - 1n, sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = c[0], sr = c[0];
  for (const x of c.slice(1)) {
    if (sn === 0n) return 'malformed';
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(x, fr);
      sr = await nodeHash(x, sr);
      if ((fn & 1n) === 0n) {
        while (fn !== 0n && (fn & 1n) === 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, x);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return 'malformed';
  if (!equal(sr, newRoot)) return 'bad_new';
  return equal(fr, oldRoot) ? 'ok' : 'bad_old';
}

export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  return (await checkConsistency(oldSize, newSize, oldRoot, newRoot, proof)) === 'ok';
}

// MTH over leaf hashes (RFC 9162 §2.1.1): SHA-256("") for none; the perfect subtrees of the
// size's binary decomposition combined right to left.
export async function rootOfLeaves(hashes) {
  if (hashes.length === 0) return sha256(new Uint8Array(0));
  // Reduce level by level: a pair becomes its node, an odd last hash is carried up as is,
  // which is the same tree as the recursive definition (left-complete).
  let level = hashes;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(await nodeHash(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}
