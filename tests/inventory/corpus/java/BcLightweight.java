package corpus;

import org.bouncycastle.crypto.*;
import org.bouncycastle.crypto.engines.*;
import org.bouncycastle.crypto.modes.*;
import org.bouncycastle.crypto.macs.*;
import org.bouncycastle.crypto.digests.*;
import org.bouncycastle.crypto.signers.*;
import org.bouncycastle.crypto.generators.*;
import org.bouncycastle.crypto.params.*;
import org.bouncycastle.crypto.encodings.*;
import org.bouncycastle.crypto.paddings.*;
import org.bouncycastle.crypto.agreement.*;
import org.bouncycastle.pqc.crypto.mlkem.*;
import org.bouncycastle.pqc.crypto.mldsa.*;

// Uses of the BouncyCastle lightweight API. The comment "MD5 is weak" below is not a use.
public class BcLightweight {
    static final int RSA_BITS = 3072;

    byte[] blockCiphers(byte[] key, byte[] iv, byte[] in) throws Exception {
        BlockCipher aes = AESEngine.newInstance(); // expect: AES
        BlockCipher gcmBase = new AESEngine(); // expect: AES
        AEADBlockCipher gcm = GCMBlockCipher.newInstance(AESEngine.newInstance()); // expect: AES-GCM
        AEADBlockCipher ccm = CCMBlockCipher.newInstance(AESEngine.newInstance()); // expect: AES-CCM
        BlockCipher cbc = CBCBlockCipher.newInstance(new DESedeEngine()); // expect: 3DES-CBC
        BufferedBlockCipher padded = new PaddedBufferedBlockCipher(new CBCBlockCipher(new AESEngine())); // expect: AES-CBC
        StreamCipher ctr = SICBlockCipher.newInstance(AESEngine.newInstance()); // expect: AES-CTR
        BlockCipher ofb = new OFBBlockCipher(new TwofishEngine(), 128); // expect: Twofish-OFB
        BlockCipher des = new DESEngine(); // expect: DES
        BlockCipher bf = new BlowfishEngine(); // expect: Blowfish
        BlockCipher cast = new CAST5Engine(); // expect: CAST5
        BlockCipher sm4 = new SM4Engine(); // expect: SM4
        BlockCipher cam = new CamelliaEngine(); // expect: Camellia
        StreamCipher rc4 = new RC4Engine(); // expect: RC4
        StreamCipher chacha = new ChaChaEngine(); // expect: ChaCha20
        AEADCipher ccp = new ChaCha20Poly1305(); // expect: ChaCha20-Poly1305
        AEADBlockCipher eax = new EAXBlockCipher(new AESEngine()); // expect: AES-EAX
        AEADBlockCipher ocb = new OCBBlockCipher(new AESEngine(), new AESEngine()); // expect: AES-OCB
        Wrapper wrap = new AESWrapEngine(); // expect: AES-KW
        BufferedBlockCipher ecb = new BufferedBlockCipher(new DESEngine()); // expect: DES
        gcm.init(true, new AEADParameters(new KeyParameter(key), 128, iv));
        return in;
    }

    void macsAndDigests(byte[] key) {
        Mac hmac = new HMac(new SHA256Digest()); // expect: HMAC-SHA256
        Mac hmac1 = new HMac(SHA1Digest.newInstance()); // expect: HMAC-SHA1
        Mac cmac = new CMac(AESEngine.newInstance()); // expect: AES-CMAC
        Mac gmac = new GMac(GCMBlockCipher.newInstance(AESEngine.newInstance())); // expect: AES-GMAC
        Mac poly = new Poly1305(); // expect: Poly1305
        Mac sip = new SipHash(); // expect: SipHash
        Digest md5 = new MD5Digest(); // expect: MD5
        Digest md4 = new MD4Digest(); // expect: MD4
        Digest sha512 = new SHA512Digest(); // expect: SHA-512
        Digest sha3 = new SHA3Digest(256); // expect: SHA3-256
        Digest sm3 = new SM3Digest(); // expect: SM3
        Digest rmd = new RIPEMD160Digest(); // expect: RIPEMD-160
        Digest b2 = new Blake2bDigest(512); // expect: BLAKE2b-512
        Xof shake = new SHAKEDigest(256); // expect: SHAKE256
    }

    void keysAndSigners(SecureRandom rnd) {
        RSAKeyPairGenerator rsa = new RSAKeyPairGenerator(); // expect: RSA-3072
        rsa.init(new RSAKeyGenerationParameters(BigInteger.valueOf(65537), rnd, RSA_BITS, 80));
        ECKeyPairGenerator ec = new ECKeyPairGenerator(); // expect: ECDSA
        Ed25519KeyPairGenerator ed = new Ed25519KeyPairGenerator(); // expect: Ed25519
        X25519KeyPairGenerator x = new X25519KeyPairGenerator(); // expect: X25519
        Ed448Signer ed448 = new Ed448Signer(new byte[0]); // expect: Ed448
        DSAParametersGenerator dsaParams = new DSAParametersGenerator(); // expect: DSA
        DHParametersGenerator dhParams = new DHParametersGenerator(); // expect: DH
        ElGamalKeyPairGenerator elg = new ElGamalKeyPairGenerator(); // expect: ElGamal
        Signer pss = new PSSSigner(new RSABlindedEngine(), new SHA256Digest(), 32); // expect: RSASSA-PSS-SHA256
        Signer pkcs1 = new RSADigestSigner(new SHA256Digest()); // expect: RSASSA-PKCS1-v1_5-SHA256
        DSA ecdsa = new ECDSASigner(); // expect: ECDSA
        DSA dsa = new DSASigner(); // expect: DSA
        Signer sm2 = new SM2Signer(); // expect: SM2
        Signer iso = new ISO9796d2Signer(new RSAEngine(), new SHA1Digest()); // expect: ISO9796-2
        AsymmetricBlockCipher oaep = new OAEPEncoding(new RSAEngine()); // expect: RSAES-OAEP
        AsymmetricBlockCipher v15 = new PKCS1Encoding(new RSAEngine()); // expect: RSA
        AsymmetricBlockCipher raw = new RSAEngine(); // expect: RSA
        BasicAgreement ecdh = new ECDHBasicAgreement(); // expect: ECDH
        RawAgreement xdh = new X25519Agreement(); // expect: X25519
        BasicAgreement dh = new DHBasicAgreement(); // expect: DH
    }

    void kdfs(byte[] pw, byte[] salt) {
        PKCS5S2ParametersGenerator pbkdf2 = new PKCS5S2ParametersGenerator(new SHA256Digest()); // expect: PBKDF2
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest()); // expect: HKDF-SHA256
        byte[] sk = SCrypt.generate(pw, salt, 16384, 8, 1, 32); // expect: scrypt
        Argon2BytesGenerator argon = new Argon2BytesGenerator(); // expect: Argon2
        byte[] bc = BCrypt.generate(pw, salt, 12); // expect: bcrypt
        PKCS12ParametersGenerator p12 = new PKCS12ParametersGenerator(new SHA1Digest()); // expect: PKCS12-KDF
    }

    void postQuantum(SecureRandom rnd) {
        MLKEMKeyPairGenerator kpg = new MLKEMKeyPairGenerator(); // expect: ML-KEM
        kpg.init(new MLKEMKeyGenerationParameters(rnd, MLKEMParameters.ml_kem_768)); // expect: ML-KEM-768
        MLKEMGenerator enc = new MLKEMGenerator(rnd); // expect: ML-KEM
        MLDSASigner signer = new MLDSASigner(); // expect: ML-DSA
        MLDSAKeyPairGenerator dkpg = new MLDSAKeyPairGenerator(); // expect: ML-DSA
        SPHINCSPlusSigner slh = new SPHINCSPlusSigner(); // expect: SPHINCS+
        BIKEKEMGenerator bike = new BIKEKEMGenerator(rnd); // expect: BIKE
        FalconSigner falcon = new FalconSigner(); // expect: Falcon
    }

    // Not crypto: classes that only look similar.
    void lookalikes() {
        SunLayout layout = new SunLayout();
        GenericEngine g = new GenericEngine();
        String note = "new MD5Digest() in a string is not a use";
        Key k = map.getKey();
    }
}
