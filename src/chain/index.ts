export { type Anvil, startAnvil } from './anvil.js';
export { configuredBeneficiaries } from './beneficiaries.js';
export {
  type ChainClients,
  type ContractCall,
  connectChain,
  contractError,
  deployContract,
  sendTx,
} from './clients.js';
export { deployProtocol, roleIds } from './deploy.js';
export { type ContractName, type Deployment, readDeployment } from './deployment.js';
export { type DeploymentAddresses, deploymentAddresses } from './deployment-addresses.js';
export { devAccount, devRoles } from './dev-accounts.js';
export {
  contractStream,
  createEventMirror,
  type EventMirror,
  eachLog,
  type MirrorLog,
  type MirrorStatus,
} from './event-mirror.js';
// The compiled contracts (scripts/compile-contracts.ts writes generated/, never committed): those used outside chain.
export {
  DataNetRegistryArtifact,
  InferenceEscrowArtifact,
  ModelRegistryArtifact,
  OnChainRowsBaselineArtifact,
  OpenTokenArtifact,
  ProtocolConfigArtifact,
  RewardDistributorArtifact,
  StakingArtifact,
  TimelockArtifact,
  TributaryGovernorArtifact,
  VotingVestingWalletArtifact,
} from './generated/index.js';
export { advanceTime, delegateVotesLocally, encodeCall, passProposal } from './governance.js';
export { merkleTree, standardLeaf, verifyMerkleProof } from './merkle.js';
export { type ChainUp, chainUp, deploymentPath, stakeFromDeployer } from './network.js';
export { defaultDeployParameters, OPEN, stakingRoles, TOTAL_SUPPLY } from './parameters.js';
export { signPermit } from './permit.js';
