using System.Security.Cryptography;
using System.Security.Authentication;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Digests;

namespace Corpus
{
    // MD5.Create() in a comment is not a use
    public class Dotnet
    {
        private const int Bits = 3072;

        public void Primitives(byte[] key, byte[] data)
        {
            using var rsa = RSA.Create(Bits); // expect: RSA-3072
            using var rsa2 = new RSACryptoServiceProvider(1024); // expect: RSA-1024
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256); // expect: ECDSA-P256
            using var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384); // expect: ECDH-P384
            using var md5 = MD5.Create(); // expect: MD5
            using var sha1 = SHA1.Create(); // expect: SHA-1
            byte[] h = SHA256.HashData(data); // expect: SHA-256
            using var aes = Aes.Create(); // expect: AES
            using var gcm = new AesGcm(key, 16); // expect: AES-GCM
            using var des = TripleDES.Create(); // expect: 3DES
            using var hmac = new HMACSHA256(key); // expect: HMAC-SHA256
            using var hmd5 = new HMACMD5(key); // expect: HMAC-MD5
            using var kdf = new Rfc2898DeriveBytes("pw", 16, 100000, HashAlgorithmName.SHA256); // expect: PBKDF2
            byte[] okm = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32); // expect: HKDF-SHA256
            byte[] ct = rsa.Encrypt(data, RSAEncryptionPadding.OaepSHA256); // expect: RSAES-OAEP
            byte[] sig = rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss); // expect: RSASSA-PSS
            using var mlkem = MLKem.GenerateKey(MLKemAlgorithm.MLKem768); // expect: ML-KEM-768
            using var mldsa = MLDsa.GenerateKey(MLDsaAlgorithm.MLDsa65); // expect: ML-DSA-65
            using var cc = new ChaCha20Poly1305(key); // expect: ChaCha20-Poly1305
            var dsa = DSA.Create(2048); // expect: DSA-2048
        }

        public void Tls(System.Net.Security.SslStream s)
        {
            var p = SslProtocols.Tls11; // expect: tlsv1.1
        }

        public void BouncyCastle()
        {
            var engine = new AesEngine(); // expect: AES
            var gen = new RsaKeyPairGenerator(); // expect: RSA
            var d = new Sha1Digest(); // expect: SHA-1
            var bf = new BlowfishEngine(); // expect: Blowfish
        }
    }
}
