package fresh

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/sha3"
)

func f(priv *rsa.PrivateKey, msg []byte, k []byte, n []byte) {
	key, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader) // expect: ECDSA-P521
	big, _ := rsa.GenerateKey(rand.Reader, 8192) // expect: RSA-8192
	s, _ := rsa.SignPSS(rand.Reader, priv, 0, msg, &rsa.PSSOptions{}) // expect: RSASSA-PSS
	d, _ := rsa.DecryptOAEP(sha256.New(), rand.Reader, priv, msg, nil) // expect: RSAES-OAEP
	h := sha512.Sum512(msg) // expect: SHA-512
	s3 := sha3.Sum512(msg) // expect: SHA3-512
	c, _ := chacha20.NewUnauthenticatedCipher(k, n) // expect: ChaCha20
	cfg := &tls.Config{MinVersion: tls.VersionTLS11} // expect: tlsv1.1
	tpl := x509.Certificate{SignatureAlgorithm: x509.SHA256WithRSA} // expect: RSASSA-PKCS1-v1_5-SHA256
	_, _, _, _, _, _, _, _, _ = key, big, s, d, h, s3, c, cfg, tpl
}
