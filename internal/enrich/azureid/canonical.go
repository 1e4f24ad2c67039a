package azureid

import "strings"

// knownTypes holds the documented spelling of common resource types. Ids
// arrive in any case ("microsoft.keyvault/vaults" from Defender,
// "Microsoft.KeyVault/vaults" from the activity log); counting by type
// needs one spelling per type.
var knownTypes = func() map[string]string {
	m := make(map[string]string)
	for _, t := range []string{
		TypeSubscription, TypeResourceGroup,
		"Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets",
		"Microsoft.Compute/virtualMachineScaleSets/virtualMachines", "Microsoft.Compute/disks",
		"Microsoft.Compute/snapshots", "Microsoft.Compute/images",
		"Microsoft.ContainerService/managedClusters", "Microsoft.ContainerRegistry/registries",
		"Microsoft.ContainerInstance/containerGroups",
		"Microsoft.KeyVault/vaults", "Microsoft.KeyVault/managedHSMs",
		"Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/blobServices",
		"Microsoft.Network/networkSecurityGroups", "Microsoft.Network/virtualNetworks",
		"Microsoft.Network/virtualNetworks/subnets", "Microsoft.Network/publicIPAddresses",
		"Microsoft.Network/networkInterfaces", "Microsoft.Network/loadBalancers",
		"Microsoft.Network/applicationGateways", "Microsoft.Network/azureFirewalls",
		"Microsoft.Network/privateEndpoints", "Microsoft.Network/frontDoors",
		"Microsoft.Web/sites", "Microsoft.Web/sites/slots", "Microsoft.Web/serverFarms",
		"Microsoft.Sql/servers", "Microsoft.Sql/servers/databases", "Microsoft.Sql/managedInstances",
		"Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBforMySQL/flexibleServers",
		"Microsoft.DocumentDB/databaseAccounts", "Microsoft.Cache/redis",
		"Microsoft.EventHub/namespaces", "Microsoft.ServiceBus/namespaces",
		"Microsoft.Logic/workflows", "Microsoft.Automation/automationAccounts",
		"Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components",
		"Microsoft.Authorization/roleAssignments", "Microsoft.Authorization/policyAssignments",
		"Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.HybridCompute/machines",
		"Microsoft.Security/assessments", "Microsoft.Security/pricings",
		"Microsoft.CognitiveServices/accounts", "Microsoft.MachineLearningServices/workspaces",
		"Microsoft.DataFactory/factories", "Microsoft.Synapse/workspaces",
		"Microsoft.ApiManagement/service", "Microsoft.AppConfiguration/configurationStores",
		"Microsoft.App/containerApps", "Microsoft.Management/managementGroups",
	} {
		m[strings.ToLower(t)] = t
	}
	return m
}()

// CanonicalType returns the documented spelling of a resource type when it
// is a common one, and the type as given otherwise.
func CanonicalType(t string) string {
	if c, ok := knownTypes[strings.ToLower(t)]; ok {
		return c
	}
	return t
}
