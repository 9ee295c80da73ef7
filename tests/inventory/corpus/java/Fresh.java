import org.bouncycastle.crypto.engines.*;
import org.bouncycastle.crypto.modes.*;
import org.bouncycastle.crypto.macs.*;
import org.bouncycastle.crypto.digests.*;
import org.bouncycastle.crypto.signers.*;
import org.bouncycastle.crypto.generators.*;
import javax.crypto.*;
import java.security.*;

class Fresh {
    void run(byte[] k) throws Exception {
        AEADBlockCipher c = new GCMBlockCipher(new CamelliaEngine()); // expect: Camellia-GCM
        BlockCipher s = new CFBBlockCipher(new SerpentEngine(), 8); // expect: Serpent-CFB
        Mac m = new HMac(new SHA512Digest()); // expect: HMAC-SHA512
        Mac m3 = new HMac(new SHA3Digest(384)); // expect: HMAC-SHA3-384
        Digest t = new TigerDigest(); // expect: Tiger
        Signer dsa = new DSADigestSigner(new ECDSASigner(), new SHA384Digest()); // expect: ECDSA-SHA384
        Signer rsa = new RSADigestSigner(new SHA1Digest()); // expect: RSASSA-PKCS1-v1_5-SHA1
        Cipher w = Cipher.getInstance("AESWrap"); // expect: AES-KW
        Signature ed = Signature.getInstance("Ed448"); // expect: Ed448
        KeyPairGenerator x = KeyPairGenerator.getInstance("X448"); // expect: X448
        Mac km = Mac.getInstance("HmacSHA3-256"); // expect: HMAC-SHA3-256
        Cipher rc2 = Cipher.getInstance("RC2/CBC/PKCS5Padding"); // expect: RC2-CBC
        SecretKeyFactory dsf = SecretKeyFactory.getInstance("DESede"); // expect: 3DES
        KeyGenerator bfk = KeyGenerator.getInstance("Blowfish"); // expect: Blowfish
    }
}

class FreshPbe {
    void pbe() throws Exception {
        SecretKeyFactory a = SecretKeyFactory.getInstance("PBEWithHmacSHA256AndAES_256"); // expect: PBKDF2
        SecretKeyFactory b = SecretKeyFactory.getInstance("PBEWithMD5AndDES"); // expect: DES-CBC
        Cipher c = Cipher.getInstance("ARIA/GCM/NoPadding"); // expect: ARIA-GCM
    }
}
