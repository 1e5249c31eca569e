export { type Anvil, type AnvilOptions, anvilBinaryPath, startAnvil } from './anvil.js';
export {
  type Beneficiaries,
  beneficiarySettings,
  type ConfiguredBeneficiaries,
  configuredBeneficiaries,
  requireBeneficiaries,
} from './beneficiaries.js';
export {
  type ChainClients,
  type ContractCall,
  connectChain,
  contractError,
  deployContract,
  sendTx,
} from './clients.js';
export { deployProtocol, roleIds } from './deploy.js';
export {
  type ContractName,
  contractNames,
  type Deployment,
  readDeployment,
  verifyDeployment,
  writeDeployment,
} from './deployment.js';
export { type DeploymentAddresses, deploymentAddresses } from './deployment-addresses.js';
export { ANVIL_MNEMONIC, devAccount, devRoles } from './dev-accounts.js';
export {
  createEventMirror,
  deploymentStart,
  type EventMirror,
  type EventMirrorOptions,
  type MirrorBlock,
  type MirrorLog,
  type MirrorRollback,
  type MirrorStatus,
  type MirrorStore,
} from './event-mirror.js';
export * from './generated/index.js';
export {
  advanceTime,
  delegateVotesLocally,
  encodeCall,
  type PassedProposal,
  type ProposalAction,
  passProposal,
} from './governance.js';
export { type MerkleTree, merkleTree, standardLeaf, verifyMerkleProof } from './merkle.js';
export {
  type ChainUp,
  type ChainUpOptions,
  chainUp,
  deploymentPath,
  LOCAL_NODE_STAKE,
  stakeFromDeployer,
} from './network.js';
export {
  type AllocationSpec,
  allocationAmounts,
  type DeployParameters,
  defaultDeployParameters,
  OPEN,
  type StakingRole,
  stakingRoles,
  TOTAL_SUPPLY,
} from './parameters.js';
export { type PermitRequest, signPermit } from './permit.js';
