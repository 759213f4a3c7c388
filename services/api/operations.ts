/**
 * Every operation in the ECS API model (2014-11-13). One Berth does not implement answers
 * UnsupportedFeatureException; a target outside this list answers UnknownOperationException.
 */
export const ECS_OPERATIONS = new Set([
  "CreateCapacityProvider", "CreateCluster", "CreateService", "CreateTaskSet", "DeleteAccountSetting",
  "DeleteAttributes", "DeleteCapacityProvider", "DeleteCluster", "DeleteService", "DeleteTaskDefinitions",
  "DeleteTaskSet", "DeregisterContainerInstance", "DeregisterTaskDefinition", "DescribeCapacityProviders",
  "DescribeClusters", "DescribeContainerInstances", "DescribeServiceDeployments", "DescribeServiceRevisions",
  "DescribeServices", "DescribeTaskDefinition", "DescribeTaskSets", "DescribeTasks", "DiscoverPollEndpoint",
  "ExecuteCommand", "GetTaskProtection", "ListAccountSettings", "ListAttributes", "ListClusters",
  "ListContainerInstances", "ListServiceDeployments", "ListServices", "ListServicesByNamespace",
  "ListTagsForResource", "ListTaskDefinitionFamilies", "ListTaskDefinitions", "ListTasks", "PutAccountSetting",
  "PutAccountSettingDefault", "PutAttributes", "PutClusterCapacityProviders", "RegisterContainerInstance",
  "RegisterTaskDefinition", "RunTask", "StartTask", "StopServiceDeployment", "StopTask",
  "SubmitAttachmentStateChanges", "SubmitContainerStateChange", "SubmitTaskStateChange", "TagResource",
  "UntagResource", "UpdateCapacityProvider", "UpdateCluster", "UpdateClusterSettings", "UpdateContainerAgent",
  "UpdateContainerInstancesState", "UpdateService", "UpdateServicePrimaryTaskSet", "UpdateTaskProtection",
  "UpdateTaskSet", "ContinueServiceDeployment", "CreateDaemon", "DeleteDaemon", "DescribeDaemon", "UpdateDaemon",
  "ListDaemons", "CreateExpressGatewayService", "UpdateExpressGatewayService", "DeleteExpressGatewayService",
  "DescribeExpressGatewayService",
]);

export const TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";
