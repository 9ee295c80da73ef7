package corpus

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/mlkem"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rc4"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/sha3"
	"crypto/tls"
)

const rsaBits = 4096

// Key generation and operations on existing keys.
func keys(msg, digest []byte, priv *rsa.PrivateKey, epriv *ecdsa.PrivateKey, edpriv ed25519.PrivateKey) {
	k, _ := rsa.GenerateKey(rand.Reader, rsaBits) // expect: RSA-4096
	k2, _ := rsa.GenerateKey(rand.Reader, 1024) // expect: RSA-1024
	s1, _ := rsa.SignPSS(rand.Reader, priv, 0, digest, nil) // expect: RSASSA-PSS
	s2, _ := rsa.SignPKCS1v15(rand.Reader, priv, 0, digest) // expect: RSA
	c1, _ := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, msg) // expect: RSA
	c2, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, &priv.PublicKey, msg, nil) // expect: RSAES-OAEP
	_ = rsa.VerifyPKCS1v15(&priv.PublicKey, 0, digest, s2) // expect: RSA
	e1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // expect: ECDSA-P256
	e2, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader) // expect: ECDSA-P384
	sig, _ := ecdsa.SignASN1(rand.Reader, epriv, digest) // expect: ECDSA
	ok := ecdsa.VerifyASN1(&epriv.PublicKey, digest, sig) // expect: ECDSA
	pub, edk, _ := ed25519.GenerateKey(rand.Reader) // expect: Ed25519
	esig := ed25519.Sign(edpriv, msg) // expect: Ed25519
	ok = ed25519.Verify(pub, msg, esig) // expect: Ed25519
	x, _ := ecdh.X25519().GenerateKey(rand.Reader) // expect: X25519
	p, _ := ecdh.P256().GenerateKey(rand.Reader) // expect: ECDH-P256
	var params dsa.Parameters
	_ = dsa.GenerateParameters(&params, rand.Reader, dsa.L2048N256) // expect: DSA-2048
	var dk dsa.PrivateKey
	_ = dsa.GenerateKey(&dk, rand.Reader) // expect: DSA
	d768, _ := mlkem.GenerateKey768() // expect: ML-KEM-768
	d1024, _ := mlkem.NewDecapsulationKey768(msg) // expect: ML-KEM-768
	_, _, _, _, _, _, _, _, _, _, _, _ = k, k2, s1, c1, c2, e1, e2, ok, edk, x, p, d768
	_ = d1024
}

func symmetric(key, nonce, data []byte) {
	block, _ := aes.NewCipher(key) // expect: AES
	gcm, _ := cipher.NewGCM(block) // expect: AES-GCM
	ctr := cipher.NewCTR(block, nonce) // expect: AES-CTR
	cbc := cipher.NewCBCEncrypter(block, nonce) // expect: AES-CBC
	cfb := cipher.NewCFBEncrypter(block, nonce) // expect: AES-CFB
	tdes, _ := des.NewTripleDESCipher(key) // expect: 3DES
	d, _ := des.NewCipher(key[:8]) // expect: DES
	r, _ := rc4.NewCipher(key) // expect: RC4
	_, _, _, _, _, _, _, _ = gcm, ctr, cbc, cfb, tdes, d, r, data
}

func hashing(key, salt, data []byte) {
	a := md5.Sum(data) // expect: MD5
	b := sha1.New() // expect: SHA-1
	c := sha256.Sum256(data) // expect: SHA-256
	d := sha512.New384() // expect: SHA-384
	e := sha3.New256() // expect: SHA3-256
	m := hmac.New(sha256.New, key) // expect: HMAC-SHA256
	m1 := hmac.New(sha1.New, key) // expect: HMAC-SHA1
	prk, _ := hkdf.Extract(sha256.New, key, salt) // expect: HKDF-SHA256
	okm, _ := hkdf.Expand(sha256.New, prk, "info", 32) // expect: HKDF-SHA256
	dk, _ := pbkdf2.Key(sha256.New, "pw", salt, 4096, 32) // expect: PBKDF2
	_, _, _, _, _, _, _, _, _ = a, b, c, d, e, m, m1, okm, dk
}

func tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS10, // expect: tlsv1.0
		MaxVersion:       tls.VersionTLS13, // expect: tlsv1.3
		CipherSuites:     []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, // expect: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.CurveP256}, // expect: X25519MLKEM768
	}
}

// Not crypto: look-alike calls.
type box struct{}

func (b box) f(s string) string { return s }

func lookalikes(b box) string {
	// md5.Sum in a comment is not a use
	name := "sha1.New()"
	return b.f("") + name
}
