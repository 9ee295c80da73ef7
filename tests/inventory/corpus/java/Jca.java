package corpus;

import java.security.*;
import java.security.spec.*;
import javax.crypto.*;
import javax.crypto.spec.*;
import javax.net.ssl.*;

public class Jca {
    private static final String TRANSFORM = "AES/GCM/NoPadding";
    private static final int EC_BITS = 256;

    void factories() throws Exception {
        Cipher c = Cipher.getInstance(TRANSFORM); // expect: AES-GCM
        Cipher d = Cipher.getInstance("DESede/CBC/PKCS5Padding"); // expect: 3DES-CBC
        Cipher e = Cipher.getInstance("DES/ECB/PKCS5Padding"); // expect: DES-ECB
        Cipher r = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding"); // expect: RSAES-OAEP
        Cipher bf = Cipher.getInstance("Blowfish/CBC/PKCS5Padding", "BC"); // expect: Blowfish
        Cipher cast = Cipher.getInstance("CAST5/CFB/NoPadding"); // expect: CAST5-CFB
        Cipher ies = Cipher.getInstance("ECIES"); // expect: ECIES
        Cipher elg = Cipher.getInstance("ElGamal/None/NoPadding"); // expect: ElGamal
        MessageDigest md = MessageDigest.getInstance("MD5"); // expect: MD5
        MessageDigest md4 = MessageDigest.getInstance("MD4"); // expect: MD4
        MessageDigest s3 = MessageDigest.getInstance("SHA3-256"); // expect: SHA3-256
        Signature s = Signature.getInstance("SHA256withECDSA"); // expect: ECDSA-SHA256
        Signature none = Signature.getInstance("NONEwithECDSA"); // expect: ECDSA
        Signature sm2 = Signature.getInstance("SM3withSM2"); // expect: SM2
        Signature pss = Signature.getInstance("RSASSA-PSS"); // expect: RSASSA-PSS
        Signature mldsa = Signature.getInstance("ML-DSA-65"); // expect: ML-DSA-65
        Mac mac = Mac.getInstance("HmacSHA256"); // expect: HMAC-SHA256
        KeyAgreement ka = KeyAgreement.getInstance("XDH"); // expect: X25519
        KeyAgreement ecdh = KeyAgreement.getInstance("ECDH"); // expect: ECDH
        SecretKeyFactory pbk = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256"); // expect: PBKDF2
        KEM kem = KEM.getInstance("ML-KEM"); // expect: ML-KEM
        KeyFactory kf = KeyFactory.getInstance("EC"); // expect: ECDSA
    }

    void generators(SecureRandom rnd) throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA"); // expect: RSA-2048
        rsa.initialize(2048);
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC"); // expect: ECDSA-P384
        ec.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPairGenerator kyber = KeyPairGenerator.getInstance("Kyber", "BCPQC"); // expect: Kyber
        KeyPairGenerator mlkem = KeyPairGenerator.getInstance("ML-KEM-1024"); // expect: ML-KEM-1024
        KeyGenerator aes = KeyGenerator.getInstance("AES"); // expect: AES-256
        aes.init(256);
        KeyGenerator hk = KeyGenerator.getInstance("HmacSHA512"); // expect: HMAC-SHA512
        AlgorithmParameterGenerator apg = AlgorithmParameterGenerator.getInstance("DH"); // expect: DH
        AlgorithmParameterGenerator dsap = AlgorithmParameterGenerator.getInstance("DSA"); // expect: DSA
        AlgorithmParameters ap = AlgorithmParameters.getInstance("EC"); // expect: ECDSA
        KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519"); // expect: Ed25519
        KeyPairGenerator dsa = KeyPairGenerator.getInstance("DSA"); // expect: DSA-1024
        dsa.initialize(1024, rnd);
    }

    void specs(byte[] raw, byte[] iv, char[] pw, byte[] salt) {
        SecretKeySpec k = new SecretKeySpec(raw, "AES"); // expect: AES
        SecretKeySpec hk = new SecretKeySpec(raw, "HmacSHA1"); // expect: HMAC-SHA1
        SecretKeySpec dk = new SecretKeySpec(raw, "DESede"); // expect: 3DES
        GCMParameterSpec g = new GCMParameterSpec(128, iv);
        PBEKeySpec pbe = new PBEKeySpec(pw, salt, 10000, 256);
        RSAKeyGenParameterSpec rs = new RSAKeyGenParameterSpec(4096, RSAKeyGenParameterSpec.F4); // expect: RSA-4096
        DHParameterSpec dhs = new DHParameterSpec(p, g2); // expect: DH
        ECGenParameterSpec ecs = new ECGenParameterSpec("prime256v1"); // expect: ECDSA-P256
        NamedParameterSpec x448 = new NamedParameterSpec("X448"); // expect: X448
        PSSParameterSpec ps = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1); // expect: RSASSA-PSS-SHA256
        OAEPParameterSpec os = new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT); // expect: RSAES-OAEP
    }

    void jsse(SSLSocket sock, SSLEngine engine) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.1"); // expect: tlsv1.1
        SSLContext tls12 = SSLContext.getInstance("TLSv1.2"); // expect: tlsv1.2
        sock.setEnabledProtocols(new String[] {"TLSv1", "TLSv1.2"}); // expect: tlsv1.0
        engine.setEnabledCipherSuites(new String[] {"TLS_RSA_WITH_AES_128_CBC_SHA"}); // expect: TLS_RSA_WITH_AES_128_CBC_SHA
        SSLParameters params = new SSLParameters();
        params.setProtocols(new String[] {"SSLv3"}); // expect: sslv3
        params.setNamedGroups(new String[] {"x25519"}); // expect: X25519
    }

    // "Cipher.getInstance(\"RC4\")" in a comment is not a use
    String hash = "SHA-1";
}
