#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/ssl.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <sodium.h>

#define RSA_BITS 2048

/* EVP_md5() in a comment is not a use */
static const char *doc = "EVP_des_ede3_cbc()";

int evp(unsigned char *key, unsigned char *iv, const unsigned char *msg, size_t n) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv); /* expect: AES-256-GCM */
    EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv); /* expect: AES-128-CBC */
    EVP_EncryptInit_ex(ctx, EVP_des_ede3_cbc(), NULL, key, iv); /* expect: 3DES-CBC */
    EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, iv); /* expect: ChaCha20-Poly1305 */
    EVP_EncryptInit_ex(ctx, EVP_bf_cbc(), NULL, key, iv); /* expect: Blowfish */
    EVP_EncryptInit_ex(ctx, EVP_rc4(), NULL, key, NULL); /* expect: RC4 */
    EVP_CIPHER *fetched = EVP_CIPHER_fetch(NULL, "AES-192-CTR", NULL); /* expect: AES-192-CTR */
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(mctx, EVP_sha256(), NULL); /* expect: SHA-256 */
    EVP_DigestInit_ex(mctx, EVP_md5(), NULL); /* expect: MD5 */
    EVP_DigestInit_ex(mctx, EVP_sha3_512(), NULL); /* expect: SHA3-512 */
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-384", NULL); /* expect: SHA-384 */
    unsigned char out[64];
    unsigned int len;
    HMAC(EVP_sha1(), key, 32, msg, n, out, &len); /* expect: HMAC-SHA1 */
    MD5(msg, n, out); /* expect: MD5 */
    SHA1(msg, n, out); /* expect: SHA-1 */
    PKCS5_PBKDF2_HMAC("pw", 2, key, 16, 10000, EVP_sha256(), 32, out); /* expect: PBKDF2 */
    return 0;
}

EVP_PKEY *keys(void) {
    EVP_PKEY *rsa = EVP_RSA_gen(RSA_BITS); /* expect: RSA-2048 */
    EVP_PKEY *ec = EVP_EC_gen("P-384"); /* expect: ECDSA-P384 */
    EVP_PKEY *q = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072); /* expect: RSA-3072 */
    EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519"); /* expect: X25519 */
    EVP_PKEY *mk = EVP_PKEY_Q_keygen(NULL, NULL, "ML-KEM-768"); /* expect: ML-KEM-768 */
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL); /* expect: Ed25519 */
    EVP_PKEY_CTX *nctx = EVP_PKEY_CTX_new_from_name(NULL, "ML-DSA-65", NULL); /* expect: ML-DSA-65 */
    EVP_PKEY_CTX *rctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL); /* expect: RSA-4096 */
    EVP_PKEY_CTX_set_rsa_keygen_bits(rctx, 4096);
    EC_KEY *eck = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1); /* expect: ECDSA-P256 */
    EC_KEY *k1 = EC_KEY_new_by_curve_name(NID_secp256k1); /* expect: ECDSA-secp256k1 */
    RSA *old = RSA_new();
    BIGNUM *e = BN_new();
    RSA_generate_key_ex(old, 1024, e, NULL); /* expect: RSA-1024 */
    DH *dh = DH_new();
    DH_generate_parameters_ex(dh, 2048, 2, NULL); /* expect: DH-2048 */
    return rsa;
}

void tls(SSL_CTX *ctx) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION); /* expect: tlsv1.0 */
    SSL_CTX_set_cipher_list(ctx, "ECDHE-RSA-AES256-GCM-SHA384"); /* expect: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
    SSL_CTX_set1_groups_list(ctx, "X25519MLKEM768:X25519"); /* expect: X25519MLKEM768 */
}

int sodium(unsigned char *m, unsigned long long mlen) {
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    unsigned char spk[crypto_sign_PUBLICKEYBYTES], ssk[crypto_sign_SECRETKEYBYTES];
    unsigned char n[24], k[32], c[256], h[64], sig[64];
    crypto_box_keypair(pk, sk); /* expect: X25519 */
    crypto_box_easy(c, m, mlen, n, pk, sk); /* expect: X25519 */
    crypto_sign_keypair(spk, ssk); /* expect: Ed25519 */
    crypto_sign_detached(sig, NULL, m, mlen, ssk); /* expect: Ed25519 */
    crypto_secretbox_easy(c, m, mlen, n, k); /* expect: XSalsa20-Poly1305 */
    crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, m, mlen, NULL, 0, NULL, n, k); /* expect: XChaCha20-Poly1305 */
    crypto_aead_aes256gcm_encrypt(c, NULL, m, mlen, NULL, 0, NULL, n, k); /* expect: AES-256-GCM */
    crypto_kx_keypair(pk, sk); /* expect: X25519 */
    crypto_scalarmult(k, sk, pk); /* expect: X25519 */
    crypto_generichash(h, 32, m, mlen, NULL, 0); /* expect: BLAKE2b-256 */
    crypto_hash_sha256(h, m, mlen); /* expect: SHA-256 */
    crypto_auth_hmacsha512(h, m, mlen, k); /* expect: HMAC-SHA512 */
    crypto_pwhash(k, 32, "pw", 2, n, 3, 1 << 26, crypto_pwhash_ALG_ARGON2ID13); /* expect: Argon2 */
    crypto_onetimeauth(h, m, mlen, k); /* expect: Poly1305 */
    crypto_stream_chacha20(c, 64, n, k); /* expect: ChaCha20 */
    crypto_shorthash(h, m, mlen, k); /* expect: SipHash */
    return 0;
}

void legacy(RSA *r, unsigned char *k, unsigned char *iv, EC_KEY *eckey, const unsigned char *in, unsigned char *out) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    MD5_CTX c;
    AES_KEY key;
    EVP_EncryptInit_ex(ctx, EVP_camellia_128_cbc(), NULL, k, iv); /* expect: Camellia-CBC */
    RSA_public_encrypt(32, in, out, r, RSA_PKCS1_OAEP_PADDING); /* expect: RSAES-OAEP */
    AES_set_encrypt_key(k, 128, &key); /* expect: AES-128 */
    ECDSA_do_sign(in, 32, eckey); /* expect: ECDSA */
    MD5_Init(&c); /* expect: MD5 */
}
