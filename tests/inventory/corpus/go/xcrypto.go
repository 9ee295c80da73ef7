package corpus

import (
	"crypto/rand"
	"crypto/sha256"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blowfish"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/hkdf"
	"golang.org/x/crypto/md4"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/ripemd160"
	"golang.org/x/crypto/salsa20"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/twofish"
)

func xcrypto(key, salt, msg []byte, nonce *[24]byte, k32 *[32]byte) {
	a := argon2.IDKey(key, salt, 1, 64*1024, 4, 32) // expect: Argon2
	h, _ := bcrypt.GenerateFromPassword(key, 12) // expect: bcrypt
	b, _ := blake2b.New256(nil) // expect: BLAKE2b-256
	bf, _ := blowfish.NewCipher(key) // expect: Blowfish
	aead, _ := chacha20poly1305.New(key) // expect: ChaCha20-Poly1305
	xa, _ := chacha20poly1305.NewX(key) // expect: XChaCha20-Poly1305
	shared, _ := curve25519.X25519(key, curve25519.Basepoint) // expect: X25519
	r := hkdf.New(sha256.New, key, salt, nil) // expect: HKDF-SHA256
	m := md4.New() // expect: MD4
	pub, priv, _ := box.GenerateKey(rand.Reader) // expect: X25519
	sealed := secretbox.Seal(nil, msg, nonce, k32) // expect: XSalsa20-Poly1305
	dk := pbkdf2.Key(key, salt, 4096, 32, sha256.New) // expect: PBKDF2
	rm := ripemd160.New() // expect: RIPEMD-160
	salsa20.XORKeyStream(msg, msg, nonce[:8], k32) // expect: Salsa20
	sk, _ := scrypt.Key(key, salt, 32768, 8, 1, 32) // expect: scrypt
	tf, _ := twofish.NewCipher(key) // expect: Twofish
	cfg := &ssh.ClientConfig{}
	cfg.KeyExchanges = []string{"curve25519-sha256", "diffie-hellman-group14-sha1"} // expect: X25519
	_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _ = a, h, b, bf, aead, xa, shared, r, m, pub, priv, sealed, dk, rm, sk, tf, cfg
}
