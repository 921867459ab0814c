using System;
using System.Globalization;
using CertIntegration.Core.Tls;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CertIntegration.Core.Cpi;

/// <summary>
/// An error answer of the API as a categorised failure: each documented status has its own ID and likely cause, and
/// the server's own message (the OData error's message.value, or the start of a text body) is quoted, cleaned of
/// control characters and tokens and at most 200 characters long.
/// </summary>
internal static class CpiErrors
{
    public static CertIntegrationException FromResponse(CpiResponse response, string what, Uri tenant, string? hint = null)
    {
        int status = response.Status;
        string server = ServerMessage(response);
        string said = server.Length > 0 ? $": \"{server}\"" : string.Empty;
        string head = $"The tenant {TokenAnswer.Authority(tenant)} refused {what} with HTTP {status.ToString(CultureInfo.InvariantCulture)} {response.Reason}".TrimEnd() + said + ".";
        string tail = hint is null ? string.Empty : " " + hint;
        return status switch
        {
            400 => new CertIntegrationException(ErrorIds.CpiBadRequest, FailureKind.InvalidArgument,
                head + (hint is null ? " Likely cause: the entry exists already (use -Force to replace it) or does not exist, a wrong password or alias, or a failed chain check." : tail)),
            401 => new CertIntegrationException(ErrorIds.CpiUnauthorized, FailureKind.AuthenticationError,
                head + " Likely cause: the token expired or the service key was deleted; connect again with Connect-CpiTenant."),
            403 => new CertIntegrationException(ErrorIds.CpiForbidden, FailureKind.PermissionDenied,
                head + " Likely cause: the alias is reserved for SAP (sap_*, hcicertificate*, hcimsgcertificate*), or the api-plan instance lacks the role " +
                "(MonitoringDataRead to read, SecurityMaterialEdit to add, replace or delete)." + tail),
            404 => new CertIntegrationException(ErrorIds.CpiEntryNotFound, FailureKind.ObjectNotFound, head + " The entry does not exist in that keystore." + tail),
            409 => new CertIntegrationException(ErrorIds.CpiTrustPathNotEstablished, FailureKind.InvalidData,
                head + " The tenant could not build the certificate's trust path. Check its fingerprint with the partner, then upload again with -FingerprintVerified." + tail),
            413 => new CertIntegrationException(ErrorIds.CpiPayloadTooLarge, FailureKind.LimitsExceeded,
                head + " The upload is too large (a certificate at most 10 kB, a key pair at most 30,072 bytes) or the keystore is full." + tail),
            415 => new CertIntegrationException(ErrorIds.CpiUnsupportedFormat, FailureKind.InvalidData, head + " The tenant did not accept the format of the upload." + tail),
            429 => new CertIntegrationException(ErrorIds.CpiThrottled, FailureKind.LimitsExceeded, head + " Too many requests; try again later." + tail),
            503 => new CertIntegrationException(ErrorIds.CpiUnavailable, FailureKind.ConnectionError,
                head + " The keystore is locked by another change, or the tenant is unavailable; try again in a moment." + tail),
            _ => new CertIntegrationException(ErrorIds.CpiRequestFailed, status >= 500 ? FailureKind.ProtocolError : FailureKind.InvalidArgument, head + tail),
        };
    }

    /// <summary>The server's words: OData V2 <c>{"error":{"message":{"value"}}}</c>, V4 <c>{"error":{"message"}}</c>, or text.</summary>
    public static string ServerMessage(CpiResponse response)
    {
        string text = response.Text.Trim();
        if (text.Length == 0)
        {
            return string.Empty;
        }

        if (text[0] == '{')
        {
            try
            {
                using var reader = new JsonTextReader(new System.IO.StringReader(text)) { MaxDepth = 16, DateParseHandling = DateParseHandling.None };
                if (JToken.ReadFrom(reader) is JObject o && o["error"] is JObject error)
                {
                    JToken? message = error["message"];
                    string? value = message is JObject m ? (string?)m["value"] : message?.Type == JTokenType.String ? (string?)message : null;
                    if (!string.IsNullOrEmpty(value))
                    {
                        return TokenAnswer.Quote(value);
                    }
                }
            }
            catch (JsonException)
            {
                // not JSON after all: quoted as text
            }
        }

        if (response.ContentType is { } type && type.IndexOf("html", StringComparison.OrdinalIgnoreCase) >= 0)
        {
            text = System.Text.RegularExpressions.Regex.Replace(text, "<[^>]*>", " ");
        }

        return TokenAnswer.Quote(System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " "));
    }
}
