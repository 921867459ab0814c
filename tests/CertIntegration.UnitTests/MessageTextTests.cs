using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>Messages built from other messages end in one period (Newtonsoft's end in "position 0.").</summary>
public class MessageTextTests
{
    [Theory]
    [InlineData("Unexpected end of content while loading JObject. Path 'oauth', line 2, position 0.", "Unexpected end of content while loading JObject. Path 'oauth', line 2, position 0")]
    [InlineData("no JSON object was found", "no JSON object was found")]
    [InlineData(" trailing space. ", "trailing space")]
    [InlineData("(truncated file?)", "(truncated file?)")]
    [InlineData(null, "")]
    public void ClauseDropsTheFinalPeriod(string? message, string expected) => Assert.Equal(expected, Messages.Clause(message));

    [Fact]
    public void DamagedContainerMessageFromAParserMessageEndsInOnePeriod()
    {
        string text = Asn1Guard.Corrupt("'x.der'", "DER length more than 4 bytes: 5.").Message;
        Assert.Equal("'x.der' is damaged: DER length more than 4 bytes: 5.", text);
    }

    [Fact]
    public void ServiceKeyParserMessageEndsInOnePeriod()
    {
        var ex = Assert.Throws<CertIntegrationException>(() => ServiceKeyFraming.ParseDocuments("{\"oauth\": ", "Service key"));
        Assert.Equal(ErrorIds.ServiceKeyNotJson, ex.ErrorId);
        Assert.Matches(@"line \d+, position \d+\.$", ex.Message);
        Assert.DoesNotContain("..", ex.Message);
    }
}
