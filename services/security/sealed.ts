import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import type { SealedBox } from "../../events/agent.ts";

/**
 * AES-256-GCM boxes, used twice by the secret store:
 *
 *  - at rest: each secret value is sealed under the master key with its name as additional data,
 *    so a ciphertext moved to another name in the bucket no longer opens;
 *  - in transit: the control plane seals an agent's secrets under a key agreed from two ephemeral
 *    X25519 key pairs (one per request on each side), so a NATS client that sees the reply — any
 *    client, when NATS runs without permissions — cannot read it.
 *
 * A box that does not open (wrong key, changed bytes, other additional data) throws SealError.
 */

const ALGORITHM = "aes-256-gcm";
/** GCM's recommended nonce length; a fresh random nonce per box. */
const IV_BYTES = 12;
export const KEY_BYTES = 32;

export class SealError extends Error {
  override readonly name = "SealError";
}

export function seal(key: Buffer, plaintext: string, aad: string): SealedBox {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    iv: iv.toString("base64"),
    ciphertext: ciphertext.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

export function open(key: Buffer, box: SealedBox, aad: string): string {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(box.iv, "base64"));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(Buffer.from(box.tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(box.ciphertext, "base64")), decipher.final()]).toString("utf8");
  } catch {
    // Never the cause: it says nothing useful and the caller's message is the one to show.
    throw new SealError("the sealed value does not open with this key");
  }
}

export interface EphemeralKeys {
  privateKey: KeyObject;
  /** SPKI DER, base64: what the other side needs. */
  publicKey: string;
}

export function ephemeralKeys(): EphemeralKeys {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64") };
}

/** The box key both sides derive: HKDF-SHA256 over the X25519 shared secret, bound to `context`. */
export function agreedKey(own: KeyObject, peerPublicKey: string, context: string): Buffer {
  let peer: KeyObject;
  try {
    peer = createPublicKey({ key: Buffer.from(peerPublicKey, "base64"), format: "der", type: "spki" });
  } catch {
    throw new SealError("the peer's public key is not an X25519 SPKI key");
  }
  if (peer.asymmetricKeyType !== "x25519") throw new SealError("the peer's public key is not an X25519 key");
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  return Buffer.from(hkdfSync("sha256", shared, Buffer.alloc(0), `berth secrets v1 ${context}`, KEY_BYTES));
}
