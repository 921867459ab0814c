global using CertIntegration.Core;
global using CertIntegration.Core.Chains;
global using CertIntegration.Core.Containers;
global using CertIntegration.Core.Files;
global using CertIntegration.Core.Keys;
global using CertIntegration.Core.ServiceKeys;
global using CertIntegration.Core.Tls;
