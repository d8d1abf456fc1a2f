import { serverHello } from './index';

console.log(serverHello());
