using Xunit;

namespace CertIntegration.UnitTests;

/// <summary>Piped lines are collected while they are the start of a JSON object that is not closed yet.</summary>
public class ServiceKeyFramingTests
{
    [Theory]
    [InlineData("{", true)]
    [InlineData("Getting key cert-key for service instance cpi as admin...\n\n{", true)]
    [InlineData("{\n  \"oauth\": {\n    \"clientid\": \"sb-x\",", true)]
    [InlineData("{\"certificate\": \"-----BEGIN CERTIFICATE-----\\nMIIB", true)]   // ends inside a string
    [InlineData("{\"a\": \"}}}\"", true)]                                          // braces inside a string do not close
    [InlineData("{\"a\": [1, 2", true)]
    [InlineData("{\"a\": 1}", false)]
    [InlineData("{\"a\": {\"b\": \"\\\"}\"}}", false)]                            // escaped quote, then closed
    [InlineData("{\"a\": }", false)]                                               // a syntax error is not "more to come"
    [InlineData("no json here", false)]
    [InlineData("", false)]
    public void KnowsWhenMoreLinesAreNeeded(string text, bool inside) =>
        Assert.Equal(inside, ServiceKeyFraming.IsInsideObject(text));
}
