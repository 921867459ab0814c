using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>Crafted PKCS#12 structures found by the mutation fuzzer: categorised errors, never a crash type.</summary>
public class Pkcs12ShapeTests
{
    private static byte[] PfxWithEncryptedSafe(Asn1Encodable encryptedData)
    {
        var safe = new ContentInfo(PkcsObjectIdentifiers.EncryptedData, encryptedData);
        var authSafe = new DerSequence(safe);
        var data = new ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(authSafe.GetEncoded()));
        return new DerSequence(DerInteger.ValueOf(3), data).GetEncoded();
    }

    [Theory]
    [InlineData(1)] // EncryptedContentInfo with only its content type: BouncyCastle indexed past its end
    [InlineData(0)]
    public void AnEncryptedSafeOfTheWrongShapeIsContainerCorrupt(int infoElements)
    {
        var info = new Asn1EncodableVector();
        if (infoElements > 0)
        {
            info.Add(PkcsObjectIdentifiers.Data);
        }

        byte[] pfx = PfxWithEncryptedSafe(new DerSequence(DerInteger.ValueOf(0), new DerSequence(info)));
        var ex = Assert.Throws<CertIntegrationException>(() => ContainerReader.ReadBytes(pfx, "crafted.pfx", null, null));
        Assert.Equal(ErrorIds.ContainerCorrupt, ex.ErrorId);
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            Assert.False(e is IndexOutOfRangeException or NullReferenceException or InvalidCastException or ArgumentOutOfRangeException, e.ToString());
        }
    }
}
