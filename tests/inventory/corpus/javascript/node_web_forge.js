'use strict';
const crypto = require('crypto');
const forge = require('node-forge');
const jose = require('jose');
const jwt = require('jsonwebtoken');

const CURVE = 'secp384r1';
// crypto.createHash('md5') in a comment is not a use
const label = "createCipheriv('des-ede3-cbc')";

function node(key, iv, data) {
  const h = crypto.createHash('sha1'); // expect: SHA-1
  const m = crypto.createHash('md5').update(data).digest('hex'); // expect: MD5
  const hm = crypto.createHmac('sha256', key); // expect: HMAC-SHA256
  const c = crypto.createCipheriv('aes-256-gcm', key, iv); // expect: AES-256-GCM
  const d = crypto.createDecipheriv('des-ede3-cbc', key, iv); // expect: 3DES-CBC
  const bf = crypto.createCipheriv('bf-cbc', key, iv); // expect: Blowfish
  const ecdh = crypto.createECDH(CURVE); // expect: ECDH-P384
  const dh = crypto.createDiffieHellman(2048); // expect: DH-2048
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 3072 }); // expect: RSA-3072
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }); // expect: ECDSA-P256
  const ed = crypto.generateKeyPairSync('ed25519'); // expect: Ed25519
  const x = crypto.generateKeyPairSync('x25519'); // expect: X25519
  const s = crypto.createSign('RSA-SHA256'); // expect: RSASSA-PKCS1-v1_5-SHA256
  const pk = crypto.pbkdf2Sync('pw', 'salt', 100000, 64, 'sha512'); // expect: PBKDF2
  const sk = crypto.scryptSync('pw', 'salt', 64); // expect: scrypt
  const hk = crypto.hkdfSync('sha256', key, 'salt', 'info', 32); // expect: HKDF-SHA256
  const enc = crypto.publicEncrypt({ key: rsa.publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING }, data); // expect: RSAES-OAEP
  const sec = crypto.generateKeySync('aes', { length: 128 }); // expect: AES-128
  return [h, m, hm, c, d, bf, ecdh, dh, s, pk, sk, hk, enc, x, sec];
}

async function web(data) {
  const subtle = globalThis.crypto.subtle;
  const k1 = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']); // expect: AES-256-GCM
  const k2 = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign']); // expect: ECDSA-P384
  const k3 = await subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt']); // expect: RSA-4096-OAEP
  const k4 = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign']); // expect: Ed25519
  const d = await subtle.digest('SHA-1', data); // expect: SHA-1
  const k5 = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, true, ['sign']); // expect: HMAC-SHA512
  return [k1, k2, k3, k4, d, k5];
}

function nodeForge(data) {
  const kp = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }); // expect: RSA-2048
  const kp2 = forge.pki.rsa.generateKeyPair(1024); // expect: RSA-1024
  const md = forge.md.md5.create(); // expect: MD5
  const s1 = forge.md.sha1.create(); // expect: SHA-1
  const s2 = forge.md.sha256.create(); // expect: SHA-256
  const hm = forge.hmac.create(); // expect: HMAC
  const c = forge.cipher.createCipher('AES-CBC', 'k'); // expect: AES-CBC
  const d = forge.cipher.createCipher('3DES-CBC', 'k'); // expect: 3DES-CBC
  const ed = forge.pki.ed25519.generateKeyPair(); // expect: Ed25519
  const pb = forge.pkcs5.pbkdf2('pw', 'salt', 1000, 32); // expect: PBKDF2
  return [kp, kp2, md, s1, s2, hm, c, d, ed, pb];
}

async function joseUse(payload, key) {
  const pair = await jose.generateKeyPair('ES256'); // expect: ECDSA-SHA256
  const token = await new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).sign(key); // expect: RSASSA-PKCS1-v1_5-SHA256
  const t2 = jwt.sign(payload, 'secret', { algorithm: 'HS256' }); // expect: HMAC-SHA256
  return [pair, token, t2];
}

module.exports = { node, web, nodeForge, joseUse, label };
