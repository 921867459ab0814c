namespace CertIntegration.Core;

/// <summary>
/// Every stable error ID the module reports, in one place: they are the FullyQualifiedErrorId prefixes users test in
/// scripts, so a name never changes once released. Grouped by where they arise.
/// </summary>
internal static class ErrorIds
{
    // Service keys, PEM, keys and certificates
    public const string ServiceKeyNotJson = nameof(ServiceKeyNotJson);
    public const string ServiceKeyIsClientSecret = nameof(ServiceKeyIsClientSecret);
    public const string ServiceKeyNoCertificate = nameof(ServiceKeyNoCertificate);
    public const string ServiceKeyUnsupportedInput = nameof(ServiceKeyUnsupportedInput);
    public const string PemMalformed = nameof(PemMalformed);
    public const string PemNoCertificate = nameof(PemNoCertificate);
    public const string PemNoPrivateKey = nameof(PemNoPrivateKey);
    public const string CertificateMalformed = nameof(CertificateMalformed);
    public const string PrivateKeyMalformed = nameof(PrivateKeyMalformed);
    public const string PrivateKeyPasswordRequired = nameof(PrivateKeyPasswordRequired);
    public const string PrivateKeyPasswordIncorrect = nameof(PrivateKeyPasswordIncorrect);
    public const string KeyCertificateMismatch = nameof(KeyCertificateMismatch);
    public const string UnsupportedAlgorithm = nameof(UnsupportedAlgorithm);
    public const string LimitExceeded = nameof(LimitExceeded);
    public const string MultipleLeafCertificates = nameof(MultipleLeafCertificates);
    public const string FileExists = nameof(FileExists);
    public const string FileNotFound = nameof(FileNotFound);
    public const string FileWriteFailed = nameof(FileWriteFailed);
    public const string FileReadFailed = nameof(FileReadFailed);
    public const string BundleHasNoPrivateKey = nameof(BundleHasNoPrivateKey);
    public const string PrivateKeyNotExportable = nameof(PrivateKeyNotExportable);
    public const string OutputPathAmbiguous = nameof(OutputPathAmbiguous);
    public const string PasswordEmpty = nameof(PasswordEmpty);

    // Containers (Import-CertificateBundle)
    /// <summary>The bytes are none of the formats read (PEM, DER certificate, PKCS#7, PKCS#12, JKS, service key JSON).</summary>
    public const string NotACertificateContainer = nameof(NotACertificateContainer);

    /// <summary>The format was recognised but the structure is broken or truncated.</summary>
    public const string ContainerCorrupt = nameof(ContainerCorrupt);

    /// <summary>The container was read but holds no certificate (only keys, only a CRL, only public keys...).</summary>
    public const string ContainerHasNoCertificate = nameof(ContainerHasNoCertificate);

    /// <summary>The PKCS#12 file is password-protected and no password (or only the empty one) was given.</summary>
    public const string Pkcs12PasswordRequired = nameof(Pkcs12PasswordRequired);

    /// <summary>The PKCS#12 password is wrong.</summary>
    public const string Pkcs12PasswordIncorrect = nameof(Pkcs12PasswordIncorrect);

    /// <summary>The Java keystore holds a private key and no password was given.</summary>
    public const string KeyStorePasswordRequired = nameof(KeyStorePasswordRequired);

    /// <summary>The Java keystore password (store integrity or key entry) is wrong.</summary>
    public const string KeyStorePasswordIncorrect = nameof(KeyStorePasswordIncorrect);

    // Exports (Export-CertificateChain, Export-PrivateKey)
    public const string InputNotCertificate = nameof(InputNotCertificate);
    public const string DestinationNotFolder = nameof(DestinationNotFolder);
    public const string PasswordWithPkcs1 = nameof(PasswordWithPkcs1);
    public const string PrivateKeyFormatUnsupported = nameof(PrivateKeyFormatUnsupported);

    // TLS (Test-MtlsEndpoint, Get-ServerCertificateChain)
    public const string CertificateInputInvalid = nameof(CertificateInputInvalid);
    public const string CertificateHasNoPrivateKey = nameof(CertificateHasNoPrivateKey);
    public const string UriInvalid = nameof(UriInvalid);
    public const string UriNotHttps = nameof(UriNotHttps);
    public const string UriMissing = nameof(UriMissing);
    public const string RelativeUriWithoutBase = nameof(RelativeUriWithoutBase);
    public const string HeaderInvalid = nameof(HeaderInvalid);
    public const string ServerUnreachable = nameof(ServerUnreachable);
    public const string TlsHandshakeFailed = nameof(TlsHandshakeFailed);
    public const string ParameterConflict = nameof(ParameterConflict);

    public const string ProxyRefused = nameof(ProxyRefused);
    public const string ProxyAuthenticationRequired = nameof(ProxyAuthenticationRequired);

    // Paths and arguments (cmdlet layer)
    public const string AccessDenied = nameof(AccessDenied);
    public const string DestinationNotFound = nameof(DestinationNotFound);
    public const string IncludeEmpty = nameof(IncludeEmpty);
    public const string OutFileAndDestination = nameof(OutFileAndDestination);
    public const string OutFileMissing = nameof(OutFileMissing);
    public const string PathInvalid = nameof(PathInvalid);
    public const string PathIsFolder = nameof(PathIsFolder);
    public const string PathNotFileSystem = nameof(PathNotFileSystem);

    // Keystores (Export-Keystore; the alias rules are the tenant keystore's, TenantKeystore)
    public const string KeystoreAliasReserved = nameof(KeystoreAliasReserved);
    public const string KeystoreAliasTooLong = nameof(KeystoreAliasTooLong);
    public const string KeystoreAliasInvalid = nameof(KeystoreAliasInvalid);
    public const string KeystoreAliasDuplicate = nameof(KeystoreAliasDuplicate);
    public const string KeystoreAliasCountMismatch = nameof(KeystoreAliasCountMismatch);

    /// <summary>No input gave an entry, so there is no keystore to write.</summary>
    public const string KeystoreEmpty = nameof(KeystoreEmpty);

    /// <summary>An input failed, so the keystore is not written (a keystore missing entries could replace the tenant's).</summary>
    public const string KeystoreNotWritten = nameof(KeystoreNotWritten);

    /// <summary>A failure the module did not foresee: always a bug to report.</summary>
    public const string UnexpectedError = nameof(UnexpectedError);

    // Service key parameters (New-ServiceKeyParameter); the warnings' codes are stable too
    public const string ServiceKeyValidityOutOfRange = nameof(ServiceKeyValidityOutOfRange);
    public const string ServiceKeyKeyLengthInvalid = nameof(ServiceKeyKeyLengthInvalid);
    public const string ServiceKeyCertificateMissing = nameof(ServiceKeyCertificateMissing);
    public const string ServiceKeyCertificateExpired = nameof(ServiceKeyCertificateExpired);
    public const string ServiceKeyCertificateNotYetValid = nameof(ServiceKeyCertificateNotYetValid);
    public const string ServiceKeyChainReduced = nameof(ServiceKeyChainReduced);
    public const string ServiceKeyNoClientAuthEku = nameof(ServiceKeyNoClientAuthEku);

    // OAuth tokens over mTLS (Get-ServiceKeyToken)
    public const string TokenClientIdMissing = nameof(TokenClientIdMissing);
    public const string TokenUrlMissing = nameof(TokenUrlMissing);
    public const string TokenInvalidClient = nameof(TokenInvalidClient);
    public const string TokenUnauthorized = nameof(TokenUnauthorized);
    public const string TokenRequestRejected = nameof(TokenRequestRejected);
    public const string TokenAnswerNotJson = nameof(TokenAnswerNotJson);
    public const string TokenAnswerNoAccessToken = nameof(TokenAnswerNoAccessToken);
    public const string TokenServerCertificateUntrusted = nameof(TokenServerCertificateUntrusted);
    public const string TokenRequestTimedOut = nameof(TokenRequestTimedOut);

    // Service keys through the Cloud Foundry v3 API (Get-/New-/Remove-CfServiceKey)
    public const string CfConfigInvalid = nameof(CfConfigInvalid);
    public const string CfNotLoggedIn = nameof(CfNotLoggedIn);
    public const string CfApiEndpointMissing = nameof(CfApiEndpointMissing);
    public const string CfNotAuthenticated = nameof(CfNotAuthenticated);
    public const string CfTokenRequestFailed = nameof(CfTokenRequestFailed);
    public const string CfUaaNotFound = nameof(CfUaaNotFound);
    public const string CfForbidden = nameof(CfForbidden);
    public const string CfNotFound = nameof(CfNotFound);
    public const string CfRequestRejected = nameof(CfRequestRejected);
    public const string CfServiceUnavailable = nameof(CfServiceUnavailable);
    public const string CfServerError = nameof(CfServerError);
    public const string CfAnswerInvalid = nameof(CfAnswerInvalid);
    public const string CfRequestTimedOut = nameof(CfRequestTimedOut);
    public const string CfServerCertificateUntrusted = nameof(CfServerCertificateUntrusted);
    public const string CfSpaceNotFound = nameof(CfSpaceNotFound);
    public const string CfSpaceAmbiguous = nameof(CfSpaceAmbiguous);
    public const string CfServiceInstanceNotFound = nameof(CfServiceInstanceNotFound);
    public const string CfServiceInstanceAmbiguous = nameof(CfServiceInstanceAmbiguous);
    public const string CfServiceKeyNotFound = nameof(CfServiceKeyNotFound);
    public const string CfServiceKeyExists = nameof(CfServiceKeyExists);
    public const string CfParameterInvalid = nameof(CfParameterInvalid);
    public const string CfJobFailed = nameof(CfJobFailed);
    public const string CfJobTimedOut = nameof(CfJobTimedOut);

    // Tenant keystore through the Cloud Integration API (Connect-CpiTenant and the Cpi*KeystoreEntry cmdlets); the HTTP statuses
    // the API documents each have their own ID (CpiBadRequest 400, CpiForbidden 403, CpiEntryNotFound 404, CpiTrustPathNotEstablished 409,
    // CpiPayloadTooLarge 413, CpiUnsupportedFormat 415, CpiThrottled 429, CpiUnavailable 503)
    public const string CpiServiceKeyInvalid = nameof(CpiServiceKeyInvalid);
    public const string CpiNotConnected = nameof(CpiNotConnected);
    public const string CpiKeystoreUnknown = nameof(CpiKeystoreUnknown);
    public const string CpiCsrfFailed = nameof(CpiCsrfFailed);
    public const string CpiRequestTimedOut = nameof(CpiRequestTimedOut);
    public const string CpiServerCertificateUntrusted = nameof(CpiServerCertificateUntrusted);
    public const string CpiAnswerInvalid = nameof(CpiAnswerInvalid);
    public const string CpiBadRequest = nameof(CpiBadRequest);
    public const string CpiUnauthorized = nameof(CpiUnauthorized);
    public const string CpiForbidden = nameof(CpiForbidden);
    public const string CpiEntryNotFound = nameof(CpiEntryNotFound);
    public const string CpiTrustPathNotEstablished = nameof(CpiTrustPathNotEstablished);
    public const string CpiPayloadTooLarge = nameof(CpiPayloadTooLarge);
    public const string CpiUnsupportedFormat = nameof(CpiUnsupportedFormat);
    public const string CpiThrottled = nameof(CpiThrottled);
    public const string CpiUnavailable = nameof(CpiUnavailable);
    public const string CpiRequestFailed = nameof(CpiRequestFailed);
    public const string CpiKeystoreInputInvalid = nameof(CpiKeystoreInputInvalid);
}
