export { REPORTS } from '@weir/kernel';
