import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { NimbusError } from '../core/errors.js';
import { KEY_FILE } from './key.js';

const ALGORITHM = 'aes-256-gcm';
/** Version of the sealed format below. */
const FORMAT = 1;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;

/**
 * Encrypts secret values for storage (AES-256-GCM, node:crypto). A sealed value is
 *
 *   format (1 byte) | key id (8) | IV (12) | auth tag (16) | ciphertext
 *
 * with a fresh random IV per value. The header and the secret's name are the additional
 * authenticated data, so a sealed value only opens under the name it was sealed for: swapping
 * values between names in the database makes them fail to open instead of exposing one secret
 * under another's name. The key id (an HMAC of a constant under the key, which reveals nothing
 * about the key) tells "sealed with another key" apart from "altered".
 */
export class SecretCipher {
  private readonly keyId: Buffer;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The secrets key must be 32 bytes.');
    this.keyId = createHmac('sha256', key).update('nimbus secrets key id').digest().subarray(0, KEY_ID_BYTES);
  }

  seal(name: string, plaintext: Buffer): Buffer {
    const header = Buffer.concat([Buffer.of(FORMAT), this.keyId]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(header, name));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  /**
   * Opens a sealed value of the secret `name`.
   * @throws NimbusError SECRET_DECRYPT_FAILED, naming the secret and the likely cause (never any value).
   */
  open(name: string, sealed: Buffer): Buffer {
    if (sealed.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) {
      throw this.failure(name, 'its stored form is unknown to this version of Nimbus. Set it again');
    }
    const header = sealed.subarray(0, HEADER_BYTES);
    if (!header.subarray(1).equals(this.keyId)) {
      throw this.failure(name, `it was encrypted with another key than the data directory's ${KEY_FILE}. Restore that key file, or set the secret again`);
    }
    const iv = sealed.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
    const tag = sealed.subarray(HEADER_BYTES + IV_BYTES, HEADER_BYTES + IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(header, name));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      // The cause is only "unable to authenticate data"; it would add nothing but noise.
      throw this.failure(name, 'its stored value was altered or belongs to another secret. Set it again');
    }
  }

  private failure(name: string, why: string): NimbusError {
    return new NimbusError('SECRET_DECRYPT_FAILED', `The secret ${name} cannot be decrypted: ${why} with: nimbus secret set ${name}`, {
      details: { secret: name },
    });
  }
}

function aad(header: Buffer, name: string): Buffer {
  return Buffer.concat([header, Buffer.from(name, 'utf8')]);
}
